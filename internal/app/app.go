// Package app wires the portal together from one Config: database, audit
// log, role rules, identity providers and the web server. The command and
// the end-to-end tests both build the portal through it, so tests run the
// same wiring as production.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	portal "github.com/nhsprocure/portal"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/auth"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/clarify"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/devidp"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/evaluation"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/jobs"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/ocds"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/web"
	"github.com/riverqueue/river"
)

// DevProviderID is the built-in development provider's ID in URLs.
const DevProviderID = "dev"

// Options are what tests may replace; the zero value is production's.
type Options struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// HTTPClient is used to reach identity providers.
	HTTPClient *http.Client
	// JobPollInterval is how often workers look for jobs (tests shorten it).
	JobPollInterval time.Duration
	// JobRetryPolicy replaces River's exponential backoff (tests shorten it).
	JobRetryPolicy river.ClientRetryPolicy
	// Mailer, when set, replaces the mailer chosen from the configuration.
	Mailer notify.Mailer
	// DevUsers, when set, replaces the development provider's user list
	// (tests use it to hand out particular claims).
	DevUsers func(ctx context.Context) ([]devidp.User, error)
	// NoExitDemo leaves the exit tracker's demo deployments out of the demo
	// data (tests that count deployments make their own).
	NoExitDemo bool
}

// App is a wired portal.
type App struct {
	Config    config.Config
	DB        *store.DB
	Audit     *audit.Log
	Authz     *authz.Authorizer
	Orgs      *orgs.Service
	Docs      *documents.Service
	Catalogue *catalogue.Service
	Framework *framework.Service
	Clarify   *clarify.Service
	Sealed    *sealed.Service
	// Competition runs mini-competitions under live framework lots.
	Competition *competition.Service
	Jobs        *jobs.Queue
	Notify      *notify.Notifier
	Auth        *auth.Authenticator
	Server      *web.Server
	DevIdP      *devidp.Provider
	Clock       clock.Clock
	Log         *slog.Logger

	// Evaluation scores, moderates and ranks the opened bids and records
	// the award recommendation.
	Evaluation *evaluation.Service

	// Contracts keeps the contracts made from confirmed awards, one per
	// buying trust.
	Contracts *contracts.Service
	// Exit tracks the national contracts' deployments, exit plans and
	// their red/amber/green ratings.
	Exit *exit.Service
	// OCDS publishes the procedures as open data.
	OCDS *ocds.Publisher
	// Award runs board approval, the award decision, standstill and
	// confirmation.
	Award *award.Service

	mailer notify.Mailer
}

// Open connects to the database and applies pending migrations.
func Open(cfg config.Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(context.Background())
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("migrations applied", "count", n)
	}
	return db, nil
}

// New builds the portal on an open, migrated database.
func New(ctx context.Context, cfg config.Config, db *store.DB, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = clock.System{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, DB: db, Clock: opt.Clock, Log: opt.Logger, mailer: opt.Mailer}
	a.Audit = &audit.Log{Clock: opt.Clock}
	if err := checkRoleMaps(cfg.Providers); err != nil {
		return nil, err
	}
	var err error
	if cfg.SessionKey == nil {
		if cfg.SessionKey, err = developmentSessionKey(cfg.DataDir); err != nil {
			return nil, err
		}
		a.Config.SessionKey = cfg.SessionKey
	}
	if cfg.DemoData {
		n, err := orgs.SeedDemo(ctx, db.DB, a.Audit, opt.Clock.Now(), DevIssuer(cfg))
		if err != nil {
			return nil, fmt.Errorf("load demo data: %w", err)
		}
		if n > 0 {
			opt.Logger.Info("demo data loaded", "records", n)
		}
		if !opt.NoExitDemo {
			n, err := exit.SeedDemo(ctx, db.DB, a.Audit, opt.Clock.Now(), 1)
			if err != nil {
				return nil, fmt.Errorf("load exit tracker demo data: %w", err)
			}
			if n > 0 {
				opt.Logger.Info("exit tracker demo data loaded", "deployments", n)
			}
		}
	}
	if a.Authz, err = authz.New(ctx, db, portal.PolicyModel(), portal.PolicyRules(), opt.Logger); err != nil {
		return nil, err
	}
	a.Orgs = &orgs.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Roles: a.Authz}
	a.Catalogue = &catalogue.Service{DB: db, Audit: a.Audit, Clock: opt.Clock}
	a.Framework = &framework.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Catalogue: a.Catalogue, Orgs: a.Orgs}
	if a.Docs, err = a.documentStore(); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if a.Notify, err = a.notifier(workers); err != nil {
		return nil, err
	}
	// Framework states the clock decides (open, evaluation, live, expired)
	// are recorded, audited and notified by a job every minute.
	river.AddWorker(workers, &framework.TransitionsWorker{S: a.Framework})
	// Board members are reminded of awards awaiting their decision by a
	// job every quarter of an hour; the service is filled in below, once
	// what it needs exists.
	a.Award = &award.Service{}
	river.AddWorker(workers, &award.RemindersWorker{S: a.Award})
	// Contracts nearing their end are notified, and the exit tracker's
	// weekly snapshot taken, by jobs every hour.
	a.Contracts = &contracts.Service{}
	river.AddWorker(workers, &contracts.ExpiryWorker{S: a.Contracts})
	a.Exit = &exit.Service{DB: db, Audit: a.Audit, Clock: opt.Clock}
	river.AddWorker(workers, &exit.SnapshotWorker{S: a.Exit})
	a.Jobs, err = jobs.New(ctx, jobs.Config{
		DB: db, DatabaseURL: cfg.DatabaseURL, Workers: workers, Logger: opt.Logger,
		PollInterval: opt.JobPollInterval, RetryPolicy: opt.JobRetryPolicy,
		PeriodicJobs: []*river.PeriodicJob{framework.TransitionsJob(0), award.RemindersJob(0), contracts.ExpiryJob(0), exit.SnapshotJob(0)},
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	a.Notify.Queue = a.Jobs
	a.Clarify = &clarify.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Notify: a.Notify}
	a.Sealed = &sealed.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Keys: a.Docs.Keys}
	a.Framework.Mail, a.Framework.Sealed, a.Framework.Notify = a.Notify, a.Sealed, a.Notify
	a.Competition = &competition.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Frameworks: a.Framework, Sealed: a.Sealed,
		Notify: a.Notify, MinimumPeriod: cfg.MinBidPeriod}
	a.Evaluation = &evaluation.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Competitions: a.Competition, AwardSent: award.DecisionSent}
	*a.Contracts = contracts.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Notify: a.Notify, Replacements: exit.Replacements{S: a.Exit}}
	a.OCDS = &ocds.Publisher{DB: db, Clock: opt.Clock, Prefix: cfg.OCIDPrefix, BaseURL: cfg.BaseURL}
	*a.Award = award.Service{DB: db, Audit: a.Audit, Clock: opt.Clock, Competitions: a.Competition, Evaluation: a.Evaluation,
		Contracts: a.Contracts, Notify: a.Notify}
	a.Orgs.Notify = a.Notify
	sessions := &auth.Sessions{DB: db, Clock: opt.Clock, Key: cfg.SessionKey, Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute}
	providers := cfg.Providers
	var devHandler http.Handler
	if cfg.DevIdP {
		if cfg.IsProduction() {
			return nil, errors.New("the development identity provider cannot run in production")
		}
		dev, err := a.devProvider(opt)
		if err != nil {
			return nil, err
		}
		devHandler = a.DevIdP.Handler()
		providers = append([]config.Provider{dev}, providers...)
	}
	a.Auth = auth.NewAuthenticator(auth.Authenticator{DB: db, Audit: a.Audit, Clock: opt.Clock, Sessions: sessions, HTTPClient: opt.HTTPClient}, cfg.BaseURL, providers)
	a.Server, err = web.New(web.Deps{
		Config: a.Config, DB: db, Audit: a.Audit, Authz: a.Authz, Orgs: a.Orgs, Docs: a.Docs, Catalogue: a.Catalogue, Framework: a.Framework, Auth: a.Auth, Sessions: sessions,
		Jobs: a.Jobs, Notify: a.Notify, Clarify: a.Clarify, Sealed: a.Sealed, Competition: a.Competition, Award: a.Award, Contracts: a.Contracts, Evaluation: a.Evaluation,
		Exit: a.Exit, OCDS: a.OCDS,
		Clock: opt.Clock, Log: opt.Logger, Views: portal.Views(), Static: portal.Static(), DevIdP: devHandler,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// notifier builds notifications and registers the email worker. Email goes
// through SMTP when PORTAL_SMTP_URL is set, otherwise (never in production)
// to the development outbox.
func (a *App) notifier(workers *river.Workers) (*notify.Notifier, error) {
	views, err := fs.Sub(portal.Views(), "email")
	if err != nil {
		return nil, err
	}
	tpl, err := notify.LoadTemplates(views)
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	mailer := a.mailer
	if mailer == nil {
		if a.Config.SMTPURL != "" {
			m, err := notify.NewSMTPMailer(a.Config.SMTPURL, a.Config.MailFrom)
			if err != nil {
				return nil, fmt.Errorf("PORTAL_SMTP_URL or PORTAL_MAIL_FROM: %w", err)
			}
			a.Log.Info("email is sent through SMTP", "server", m.String())
			mailer = m
		} else {
			a.Log.Warn("PORTAL_SMTP_URL is not set: email goes to the development outbox at /admin/outbox")
			mailer = &notify.OutboxMailer{DB: a.DB, Clock: a.Clock}
		}
	}
	n := &notify.Notifier{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Templates: tpl, BaseURL: a.Config.BaseURL}
	river.AddWorker(workers, &notify.EmailWorker{N: n, Mailer: mailer})
	return n, nil
}

// documentStore opens the encrypted document store on the configured
// backend (DocumentBackend). The master key comes from PORTAL_MASTER_KEY or
// PORTAL_MASTER_KEY_FILE; outside production a key file is made in the data
// folder on first start. Reaching an S3 bucket is bounded so that an
// unreachable endpoint stops start-up with an error instead of hanging.
func (a *App) documentStore() (*documents.Service, error) {
	keys, err := MasterKeyring(a.Config, !a.Config.IsProduction())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	backend, err := DocumentBackend(ctx, a.Config)
	if err != nil {
		return nil, err
	}
	return &documents.Service{
		DB: a.DB, Audit: a.Audit, Clock: a.Clock, Keys: keys, Store: backend,
		Limits: documents.Limits{MaxFileBytes: a.Config.UploadMax, OrgQuotaBytes: a.Config.OrgQuota, Zip: documents.DefaultZipLimits},
	}, nil
}

// MasterKeyPath is where the master key file is: PORTAL_MASTER_KEY_FILE,
// or master.key in the data folder.
func MasterKeyPath(cfg config.Config) string {
	if cfg.MasterKeyFile != "" {
		return cfg.MasterKeyFile
	}
	return filepath.Join(cfg.DataDir, "master.key")
}

// MasterKeyring loads the document store's master key from
// PORTAL_MASTER_KEY or its file (MasterKeyPath), making a new file only
// when create is set (outside production, on first start; never for a
// restore, where a new key would read nothing).
func MasterKeyring(cfg config.Config, create bool) (*documents.Keyring, error) {
	key := cfg.MasterKey
	if key == nil {
		var err error
		if key, err = documents.LoadOrCreateMasterKey(MasterKeyPath(cfg), create); err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
	}
	keys, err := documents.NewKeyring(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return keys, nil
}

// checkRoleMaps refuses a role map naming a role the portal does not have,
// which would otherwise quietly give nobody that role.
func checkRoleMaps(providers []config.Provider) error {
	var errs []error
	for _, p := range providers {
		for value, role := range p.RoleMap {
			if !authz.Role(role).Valid() {
				errs = append(errs, fmt.Errorf("PORTAL_OIDC_%s_ROLE_MAP maps %q to %q, which is not a role; use one of %s",
					strings.ToUpper(p.ID), value, role, roleNames()))
			}
		}
	}
	return errors.Join(errs...)
}

func roleNames() string {
	names := make([]string, len(authz.Roles))
	for i, r := range authz.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// DevIssuer is the built-in development provider's issuer URL.
func DevIssuer(cfg config.Config) string { return cfg.BaseURL + "/dev-idp" }

// devProvider starts the in-process development OpenID Provider and returns
// the relying-party configuration the portal uses to sign in through it.
func (a *App) devProvider(opt Options) (config.Provider, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return config.Provider{}, err
	}
	p := config.Provider{
		ID: DevProviderID, Label: "Development sign-in (demo users)", Issuer: DevIssuer(a.Config),
		ClientID: "portal-development", ClientSecret: base64.RawURLEncoding.EncodeToString(secret),
		Scopes: []string{"openid", "profile", "email"}, RoleSource: "nrbac",
		RoleMap: map[string]string{},
	}
	for _, r := range authz.Roles {
		p.RoleMap[string(r)] = string(r) // test users may claim portal roles by name
	}
	users := opt.DevUsers
	if users == nil {
		users = a.devUsers
	}
	var err error
	a.DevIdP, err = devidp.New(devidp.Config{
		Issuer: p.Issuer,
		Clients: []devidp.Client{{
			ID: p.ClientID, Secret: p.ClientSecret,
			RedirectURIs:           []string{a.Config.BaseURL + "/auth/callback/" + DevProviderID},
			PostLogoutRedirectURIs: []string{a.Config.BaseURL + "/signed-out"},
		}},
		Users: users, Now: a.Clock.Now, Production: a.Config.IsProduction(), Logger: opt.Logger,
		RenderLogin: a.renderDevLogin,
	})
	return p, err
}

// devUsers lists the development provider's users from the database, with
// their roles as labels for the sign-in page.
func (a *App) devUsers(ctx context.Context) ([]devidp.User, error) {
	ms, err := a.Orgs.MembershipsByIssuer(ctx, DevIssuer(a.Config))
	if err != nil {
		return nil, err
	}
	var out []devidp.User
	seen := map[string]int{}
	for _, m := range ms {
		if i, ok := seen[m.UserID]; ok {
			out[i].Role += ", " + authz.Role(m.Role).Label()
			continue
		}
		seen[m.UserID] = len(out)
		out = append(out, devidp.User{
			Subject: m.User.Subject, Name: m.User.Name, Email: m.User.Email,
			Role: authz.Role(m.Role).Label(), Organisation: m.Organisation.Name,
		})
	}
	return out, nil
}

func (a *App) renderDevLogin(w http.ResponseWriter, r *http.Request, page devidp.LoginPage) error {
	return a.Server.RenderStandalone(w, "devidp_login", "Sign in as a demo user", page)
}

// developmentSessionKey keeps a random session key in the data folder, so
// development sessions survive a restart without any setting.
func developmentSessionKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "session.key")
	if b, err := os.ReadFile(path); err == nil { // #nosec G304 -- a fixed name inside PORTAL_DATA_DIR
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err == nil && len(key) >= 32 {
			return key, nil
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
		return nil, fmt.Errorf("write development session key: %w", err)
	}
	return key, nil
}

// Watch keeps this instance in step with the others until ctx ends: it
// reloads the role rules within rolesEvery of a change made elsewhere, and
// hears the changes that make remembered sessions stale at once.
func (a *App) Watch(ctx context.Context, rolesEvery time.Duration) {
	go a.Authz.Watch(ctx, rolesEvery)
	go a.DB.Changes().Listen(ctx)
}

// Run serves until ctx ends, with the background work every instance does:
// picking up role changes made elsewhere and sweeping expired sessions.
func (a *App) Run(ctx context.Context) error {
	a.Watch(ctx, time.Second)
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.Auth.Sessions.Sweep(ctx); err != nil {
					a.Log.Error("sweep sessions", "err", err)
				}
				// An hour is far longer than any commit takes after a file is
				// stored, so only true orphans are removed.
				if n, err := a.Docs.Sweep(ctx, time.Hour); err != nil {
					a.Log.Error("sweep documents", "err", err)
				} else if n > 0 {
					a.Log.Info("removed orphaned document files", "count", n)
				}
			}
		}
	}()
	if err := a.Jobs.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Jobs.Stop(stop); err != nil {
			a.Log.Error("stop job queue", "err", err)
		}
	}()
	a.Log.Info("portal listening", "addr", a.Config.Addr, "url", a.Config.BaseURL)
	return a.Server.Start(ctx, a.Config.Addr)
}
