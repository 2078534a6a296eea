// Package web is the portal's HTTP face: Echo, middleware in one explicit
// order, one small file per page or action, templates parsed once. Handlers
// parse input and call domain services; they hold no business rules.
package web

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

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
)

// Deps is everything the web layer needs, built once from the Config.
type Deps struct {
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
	Jobs      *jobs.Queue
	Notify    *notify.Notifier
	Auth      *auth.Authenticator
	Sessions  *auth.Sessions
	Clock     clock.Clock
	Log       *slog.Logger
	Views     fs.FS
	Static    fs.FS
	// DevIdP, when set, is the built-in development identity provider's
	// handler, mounted at /dev-idp.
	DevIdP http.Handler
	// Registry collects Prometheus metrics; nil means a new one.
	Registry *prometheus.Registry

	// Competition runs mini-competitions under live framework lots.
	Competition *competition.Service
	// Award runs board approval, the award decision, standstill and
	// confirmation of mini-competitions.
	Award *award.Service
	// Evaluation scores, moderates and ranks mini-competitions' opened
	// bids and records the award recommendation.
	Evaluation *evaluation.Service
	// Contracts keeps the contracts made from confirmed awards.
	Contracts *contracts.Service
	// Exit tracks the national contracts' deployments, exit plans and
	// their red/amber/green ratings.
	Exit *exit.Service
	// OCDS publishes the procedures as open data.
	OCDS *ocds.Publisher
}

// Server is the portal's web server.
type Server struct {
	Deps
	cfg       config.Config
	echo      *echo.Echo
	templates templates
	authz     *authz.Authorizer
	log       *slog.Logger
	routes    []Route
	cookies   cookieNames
	// uploads holds the paths of multipart upload routes, whose handlers
	// check the CSRF token themselves from the form's first field, so the
	// middleware need not read (and buffer) the whole body.
	uploads map[string]bool
	viewers *viewerCache
	// rendering, when set, is shown every page as it is rendered: the
	// signed-in pages benchmark renders the same pages again, without the
	// portal's work, for its baseline. Nil outside that benchmark.
	rendering func(name string, p *Page)
}

// Route is one page or action and the permission it needs. Routes with an
// empty Object need only a signed-in person (or nobody, when Public).
type Route struct {
	Method string
	Path   string
	Object string
	Action string
	Public bool
	// ObjectLevel marks routes whose handler also checks the stored record's
	// organisation (answering 404 when it is another organisation's).
	ObjectLevel bool
	// Upload marks streaming multipart uploads (see Server.uploads).
	Upload  bool
	handler echo.HandlerFunc
}

type cookieNames struct{ session, attempt, csrf, flash string }

// New builds the server: templates parsed, middleware in order, routes set.
func New(d Deps) (*Server, error) {
	tpl, err := parseTemplates(d.Views)
	if err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{Deps: d, cfg: d.Config, templates: tpl, authz: d.Authz, log: d.Log, viewers: newViewerCache(d.DB.Changes())}
	prefix := ""
	if d.Config.Secure() {
		// __Host- cookies are only accepted over HTTPS, for the whole host.
		prefix = "__Host-"
	}
	s.cookies = cookieNames{prefix + "portal_session", prefix + "portal_signin", prefix + "portal_csrf", prefix + "portal_flash"}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	if d.Config.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	s.echo = e
	m, err := newMetrics(d.Registry, d.DB)
	if err != nil {
		return nil, err
	}
	// Middleware order, outermost first: every later step can rely on the
	// ones before it (request id for logs, recovery for panics, headers on
	// every response including errors).
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.requestLogger)
	e.Use(middleware.Recover())
	e.Use(m.middleware)
	e.Use(s.securityHeaders)
	e.Use(s.loadViewer)
	csrf, err := s.csrf()
	if err != nil {
		return nil, err
	}
	e.Use(csrf)

	e.GET("/static/*", s.static("/static/", s.Static))
	// The NHS.UK stylesheet refers to its icons at /assets/.
	e.GET("/assets/*", s.static("/assets/", mustSub(s.Static, "nhsuk/assets")))
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", m.handler())
	if d.DevIdP != nil {
		e.Any("/dev-idp/*", echo.WrapHandler(d.DevIdP))
	}
	s.addRoutes()
	s.uploads = map[string]bool{}
	for _, r := range s.routes {
		if r.Upload {
			s.uploads[r.Method+" "+r.Path] = true
		}
		h := r.handler
		if !r.Public {
			h = s.require(r.Object, r.Action)(h)
		}
		e.Add(r.Method, r.Path, h)
	}
	return s, nil
}

// ServeHTTP lets the server be used as an http.Handler (tests, httptest).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Routes lists every page and action with the permission it needs, for the
// role-by-route test.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Start serves on addr until ctx ends, then shuts down gracefully.
func (s *Server) Start(ctx context.Context, addr string) error {
	srv := &http.Server{
		Addr: addr, Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 5 * time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// requestLogger gives every request a logger carrying its request id and
// logs one line when it ends.
func (s *Server) requestLogger(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		l := s.log.With("request_id", id)
		c.Set(loggerKey, l)
		c.SetRequest(c.Request().WithContext(withLogger(c.Request().Context(), l)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		if !wantsPath(c, "/static/", "/assets/", "/healthz", "/metrics") {
			l.Info("request", "method", c.Request().Method, "path", loggedPath(c.Request().URL.Path),
				"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(), "ip", c.RealIP())
		}
		return nil
	}
}

// loggedPath is the request path as logs show it: an invitation link's
// token is a credential, so it is left out.
func loggedPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/invitations/"); ok && rest != "" {
		_, tail, _ := strings.Cut(rest, "/")
		if tail != "" {
			tail = "/" + tail
		}
		return "/invitations/(token)" + tail
	}
	return p
}

type loggerCtxKey struct{}

func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerCtxKey{}, l)
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	formAction := append([]string{"'self'"}, s.Auth.Origins()...)
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' https://assets.nhs.uk; " +
		"connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action " + strings.Join(formAction, " ")
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.IsProduction() {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if !wantsPath(c, "/static/", "/assets/") {
			// Nothing the portal renders may be kept by a browser or proxy:
			// signed-in pages hold other people's data.
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// csrf checks a token on every state-changing request. Echo's middleware
// would let a browser's Sec-Fetch-Site: same-origin stand in for the token;
// the portal wants both, so a cross-site request is refused outright and the
// header is then removed so the token is always checked.
func (s *Server) csrf() (echo.MiddlewareFunc, error) {
	skip := func(c echo.Context) bool {
		// The development provider's endpoints are called by the relying
		// party itself (token, keys) or carry their own unguessable request
		// ID, and back-channel logout is called by providers with a signed
		// token; none of them are the portal's forms. Uploads check their
		// token in the handler.
		return wantsPath(c, "/dev-idp/", "/auth/backchannel-logout/") || s.uploads[c.Request().Method+" "+c.Path()]
	}
	refuse := func(err error, c echo.Context) error { return s.refuseCSRF(c, err) }
	// #nosec G101 -- csrfKey and the cookie name are names, not secrets; tokens are random per session
	mw, err := middleware.CSRFConfig{
		Skipper:        skip,
		TokenLookup:    "form:_csrf",
		ContextKey:     csrfKey,
		CookieName:     s.cookies.csrf,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.Secure(),
		CookieSameSite: http.SameSiteLaxMode,
		CookieMaxAge:   int((12 * time.Hour).Seconds()),
		ErrorHandler:   refuse,
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		inner := mw(next)
		return func(c echo.Context) error {
			r := c.Request()
			unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
			// Uploads skip the token middleware (they check the token
			// themselves) but not this check.
			if site := r.Header.Get(echo.HeaderSecFetchSite); unsafe && !wantsPath(c, "/dev-idp/", "/auth/backchannel-logout/") && (site == "cross-site" || site == "same-site") {
				return refuse(fmt.Errorf("Sec-Fetch-Site %s", site), c)
			}
			r.Header.Del(echo.HeaderSecFetchSite)
			return inner(c)
		}
	}, nil
}

// refuseCSRF answers a request whose CSRF check failed: 403, audited.
func (s *Server) refuseCSRF(c echo.Context, err error) error {
	_ = s.Audit.Record(c.Request().Context(), s.DB, actor(c), audit.Event{
		Action: "request.csrf_refused", ObjectType: "path", ObjectID: loggedPath(c.Request().URL.Path), Outcome: audit.Denied,
	})
	return &Error{Status: http.StatusForbidden, Message: "This form has expired or did not come from the portal. Go back, reload the page and try again.", Err: err}
}

func (s *Server) static(prefix string, files fs.FS) echo.HandlerFunc {
	h := http.StripPrefix(prefix, http.FileServer(http.FS(files)))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // fs.Sub fails only on an invalid path, which this is not
	}
	return sub
}
