// Package config reads the portal's settings from PORTAL_* environment
// variables into one typed struct. Every variable is declared once in vars so
// that parsing, the start-up log line and the README table cannot drift apart.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment names accepted in PORTAL_ENV.
const (
	Development = "development"
	Production  = "production"
)

// Config is everything the portal needs to start. It is built once by Load
// and passed down; nothing reads the environment after start-up.
type Config struct {
	Env         string
	Addr        string
	BaseURL     string
	DatabaseURL string
	DataDir     string
	LogLevel    string
	LogFormat   string

	SessionKey      []byte
	MasterKey       []byte
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	TrustProxy      bool

	DevIdP       bool
	DemoData     bool
	SupportEmail string

	// MasterKeyFile holds the master key when it is not given inline.
	MasterKeyFile string
	// DocumentsBackend is where encrypted documents are stored: "local"
	// (in DocumentsDir) or "s3" (in the bucket S3 describes).
	DocumentsBackend string
	DocumentsDir     string
	S3               S3Settings
	UploadMax        int64
	OrgQuota         int64
	// MemoryLimit is the soft limit on the process's memory the garbage
	// collector works to (0: Go's defaults); see app.TuneMemory.
	MemoryLimit int64

	SMTPURL  string
	MailFrom string

	// MinBidPeriod is the shortest time from publishing a mini-competition
	// to its submission deadline, per regime ("pcr2015", "pa2023").
	MinBidPeriod map[string]time.Duration

	// OCIDPrefix begins every Open Contracting ID the portal publishes
	// ("ocds-abc123"): the prefix the Open Contracting Partnership
	// registers for a publisher.
	OCIDPrefix string

	Providers []Provider
}

// Provider is one external OpenID Provider. Several may be configured at
// once, e.g. NHS CIS2 for trust staff and another for suppliers.
type Provider struct {
	ID           string
	Label        string
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// RoleSource says how claims become organisations and roles: "nrbac"
	// reads CIS2's nhsid_nrbac_roles; "claims" reads OrgClaim and RoleClaim.
	RoleSource string
	OrgClaim   string
	RoleClaim  string
	// RoleMap maps a claim value (a CIS2 role code such as S8001:G8005:R8000,
	// or a plain role value) to a portal role.
	RoleMap map[string]string
	// RequiredACR, when set, fails the sign-in closed unless the token's acr
	// is one of these values.
	RequiredACR []string
}

// S3Settings reach the S3 (or S3-compatible) bucket documents are stored
// in when DocumentsBackend is "s3".
type S3Settings struct {
	Endpoint  string // host or host:port, no scheme
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	TLS       bool
	Prefix    string
}

// Documents backends accepted in PORTAL_DOCUMENTS_BACKEND.
const (
	DocumentsLocal = "local"
	DocumentsS3    = "s3"
)

// DefaultMemoryLimit is PORTAL_MEMORY_LIMIT's default: room for an
// instance under a deadline's load with a quarter-gibibyte container's
// margin (docs/benchmarks.md gives the peaks measured under it).
const DefaultMemoryLimit = 192 << 20

// IsProduction reports whether insecure conveniences must be refused.
func (c Config) IsProduction() bool { return c.Env == Production }

// Secure reports whether cookies can carry the Secure flag and __Host- prefix.
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Var documents one environment variable.
type Var struct {
	Name        string
	Default     string
	Secret      bool
	Description string
}

// Vars lists every top-level variable with its default. Per-provider
// variables are described by ProviderVars.
var Vars = []Var{
	{"PORTAL_ENV", Development, false, "`development` or `production`. Production refuses the development identity provider, a non-HTTPS base URL and missing keys."},
	{"PORTAL_ADDR", ":8080", false, "Address the web server listens on."},
	{"PORTAL_BASE_URL", "http://localhost:8080", false, "External URL of the portal, used for sign-in redirects and links in email. Must be https:// in production."},
	{"PORTAL_DATABASE_URL", "data/portal.db", false, "A postgres:// URL for PostgreSQL; anything else is a SQLite file path."},
	{"PORTAL_DATA_DIR", "data", false, "Folder for local files (SQLite database, documents)."},
	{"PORTAL_LOG_LEVEL", "info", false, "debug, info, warn or error."},
	{"PORTAL_LOG_FORMAT", "text", false, "text or json."},
	{"PORTAL_SESSION_KEY", "", true, "Base64 key of at least 32 bytes used to hash session tokens before they are stored. Required in production; a random one is made at each start in development."},
	{"PORTAL_MASTER_KEY", "", true, "Base64 key of 32 bytes that wraps the keys encrypting stored documents and bids. Required in production."},
	{"PORTAL_SESSION_IDLE_TIMEOUT", "30m", false, "A session ends after this long without a request."},
	{"PORTAL_SESSION_ABSOLUTE_TIMEOUT", "12h", false, "A session ends this long after sign-in, whatever the activity."},
	{"PORTAL_TRUST_PROXY", "false", false, "Take the client IP from X-Forwarded-For (only behind a proxy you run)."},
	{"PORTAL_DEV_IDP", "true when no provider is configured", false, "Serve the built-in development identity provider at /dev-idp. Refused in production."},
	{"PORTAL_DEMO_DATA", "true in development", false, "Load the demo organisations and users on start-up (idempotent)."},
	{"PORTAL_SUPPORT_EMAIL", "support@procurement.example.nhs.uk", false, "Who people without access are told to contact."},
	{"PORTAL_MASTER_KEY_FILE", "data/master.key in development", false, "File holding the base64 master key, instead of PORTAL_MASTER_KEY. In development a key is made there on first start."},
	{"PORTAL_DOCUMENTS_BACKEND", DocumentsLocal, false, "Where encrypted documents are stored: `local` in PORTAL_DOCUMENTS_DIR, or `s3` in an S3 (or S3-compatible) bucket set by the PORTAL_S3_* variables, so that several instances share them without a shared folder."},
	{"PORTAL_DOCUMENTS_DIR", "data/documents", false, "Folder where encrypted documents are stored (with PORTAL_DOCUMENTS_BACKEND=local)."},
	{"PORTAL_S3_ENDPOINT", "", false, "With PORTAL_DOCUMENTS_BACKEND=s3 (required): the S3 server as host or host:port without a scheme, e.g. `s3.eu-west-2.amazonaws.com`."},
	{"PORTAL_S3_REGION", "us-east-1", false, "With PORTAL_DOCUMENTS_BACKEND=s3: the bucket's region."},
	{"PORTAL_S3_BUCKET", "", false, "With PORTAL_DOCUMENTS_BACKEND=s3 (required): the bucket, which must already exist; the portal never creates one."},
	{"PORTAL_S3_ACCESS_KEY", "", false, "With PORTAL_DOCUMENTS_BACKEND=s3 (required): the access key ID."},
	{"PORTAL_S3_SECRET_KEY", "", true, "With PORTAL_DOCUMENTS_BACKEND=s3 (required): the secret access key."},
	{"PORTAL_S3_TLS", "true", false, "With PORTAL_DOCUMENTS_BACKEND=s3: reach the endpoint over HTTPS. Set `false` only for a server on the same machine or a private network."},
	{"PORTAL_S3_PREFIX", "", false, "With PORTAL_DOCUMENTS_BACKEND=s3: keep the documents under this prefix (folder) of the bucket, so the bucket can hold other things too."},
	{"PORTAL_UPLOAD_MAX", "512MiB", false, "Largest file one upload may be (bytes, or with KiB, MiB or GiB)."},
	{"PORTAL_ORG_QUOTA", "50GiB", false, "Total size of documents one organisation may store."},
	{"PORTAL_MEMORY_LIMIT", "192MiB", false, "Soft limit on the memory one portal process uses (bytes, or with KiB, MiB or GiB), or `off` for Go's defaults. Below it the garbage collector runs half as often as Go's default (GOGC=200); near it, as often as it must to stay under. Set it to what an instance may use, less a margin for the operating system. GOMEMLIMIT or GOGC in the environment wins over it."},
	{"PORTAL_SMTP_URL", "", true, "SMTP server for email, e.g. `smtp://user:password@smtp.example.nhs.uk:587`. Unset outside production: email goes to the development outbox page."},
	{"PORTAL_MAIL_FROM", "NHS procurement portal <no-reply@procurement.example.nhs.uk>", false, "Sender of the portal's email."},
	{"PORTAL_MIN_BID_DAYS_PCR2015", "10", false, "Fewest whole days from publishing a mini-competition under the Public Contracts Regulations 2015 to its submission deadline."},
	{"PORTAL_MIN_BID_DAYS_PA2023", "10", false, "Fewest whole days from publishing a mini-competition under the Procurement Act 2023 to its submission deadline."},
	{"PORTAL_OCID_PREFIX", "ocds-nhspp1", false, "Prefix of the Open Contracting IDs in the portal's open data (OCDS): `ocds-` and the six letters or digits registered for the publisher."},
	{"PORTAL_OIDC_PROVIDERS", "", false, "Comma-separated IDs of external OpenID Providers, e.g. `cis2,suppliers`; each is configured by the PORTAL_OIDC_<ID>_* variables below."},
}

// ProviderVars documents the per-provider variables (with <ID> upper-cased).
var ProviderVars = []Var{
	{"PORTAL_OIDC_<ID>_ISSUER", "", false, "Issuer URL (discovery is fetched from it)."},
	{"PORTAL_OIDC_<ID>_CLIENT_ID", "", false, "Client ID registered with the provider."},
	{"PORTAL_OIDC_<ID>_CLIENT_SECRET", "", true, "Client secret."},
	{"PORTAL_OIDC_<ID>_LABEL", "<ID>", false, "Button text on the sign-in page."},
	{"PORTAL_OIDC_<ID>_SCOPES", "openid,profile,email", false, "Scopes to ask for; CIS2 needs `nationalrbacaccess` (and `selectedrole`)."},
	{"PORTAL_OIDC_<ID>_ROLE_SOURCE", "claims", false, "`nrbac` to read CIS2's nhsid_nrbac_roles (org_code, role_code); `claims` to read the two claims below."},
	{"PORTAL_OIDC_<ID>_ORG_CLAIM", "org", false, "With ROLE_SOURCE=claims: claim naming the organisation (ODS code, Companies House number or portal ID)."},
	{"PORTAL_OIDC_<ID>_ROLE_CLAIM", "roles", false, "With ROLE_SOURCE=claims: claim holding role values (string or list)."},
	{"PORTAL_OIDC_<ID>_ROLE_MAP", "", false, "Comma-separated value=role pairs, e.g. `S8001:G8005:R8000=trust_lead`. Values not listed give no role."},
	{"PORTAL_OIDC_<ID>_REQUIRED_ACR", "", false, "Comma-separated acr values accepted; when set, a token without one of them is refused."},
}

// Load reads the configuration from getenv (os.Getenv in production, a map in
// tests). A bad value stops start-up with an error naming the variable.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Env:             r.oneOf("PORTAL_ENV", Development, Development, Production),
		Addr:            r.str("PORTAL_ADDR", ":8080"),
		BaseURL:         strings.TrimRight(r.str("PORTAL_BASE_URL", "http://localhost:8080"), "/"),
		DataDir:         r.str("PORTAL_DATA_DIR", "data"),
		LogLevel:        r.oneOf("PORTAL_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:       r.oneOf("PORTAL_LOG_FORMAT", "text", "text", "json"),
		SessionKey:      r.key("PORTAL_SESSION_KEY", 32, 0),
		MasterKey:       r.key("PORTAL_MASTER_KEY", 32, 32),
		SessionIdle:     r.duration("PORTAL_SESSION_IDLE_TIMEOUT", 30*time.Minute),
		SessionAbsolute: r.duration("PORTAL_SESSION_ABSOLUTE_TIMEOUT", 12*time.Hour),
		TrustProxy:      r.boolean("PORTAL_TRUST_PROXY", false),
		SupportEmail:    r.str("PORTAL_SUPPORT_EMAIL", "support@procurement.example.nhs.uk"),
	}
	c.DatabaseURL = r.str("PORTAL_DATABASE_URL", c.DataDir+"/portal.db")
	c.MasterKeyFile = r.str("PORTAL_MASTER_KEY_FILE", "")
	c.DocumentsBackend = r.oneOf("PORTAL_DOCUMENTS_BACKEND", DocumentsLocal, DocumentsLocal, DocumentsS3)
	c.DocumentsDir = r.str("PORTAL_DOCUMENTS_DIR", c.DataDir+"/documents")
	c.S3 = r.s3(c.DocumentsBackend == DocumentsS3)
	c.UploadMax = r.size("PORTAL_UPLOAD_MAX", 512<<20)
	c.OrgQuota = r.size("PORTAL_ORG_QUOTA", 50<<30)
	if !strings.EqualFold(r.str("PORTAL_MEMORY_LIMIT", ""), "off") {
		c.MemoryLimit = r.size("PORTAL_MEMORY_LIMIT", DefaultMemoryLimit)
	}
	c.SMTPURL = r.str("PORTAL_SMTP_URL", "")
	c.MailFrom = r.str("PORTAL_MAIL_FROM", "NHS procurement portal <no-reply@procurement.example.nhs.uk>")
	c.MinBidPeriod = map[string]time.Duration{
		"pcr2015": r.days("PORTAL_MIN_BID_DAYS_PCR2015", 10),
		"pa2023":  r.days("PORTAL_MIN_BID_DAYS_PA2023", 10),
	}
	r.url("PORTAL_BASE_URL", c.BaseURL)
	c.OCIDPrefix = r.str("PORTAL_OCID_PREFIX", "ocds-nhspp1")
	if !ocidPrefix.MatchString(c.OCIDPrefix) {
		r.fail("PORTAL_OCID_PREFIX", "must be an OCID prefix: \"ocds-\" and the six letters or digits registered for the publisher, such as ocds-abc123")
	}
	seen := map[string]bool{}
	for _, id := range r.list("PORTAL_OIDC_PROVIDERS", nil) {
		if seen[strings.ToLower(id)] {
			r.fail("PORTAL_OIDC_PROVIDERS", fmt.Sprintf("names %q twice; give each provider one ID", id))
			continue
		}
		seen[strings.ToLower(id)] = true
		c.Providers = append(c.Providers, r.provider(id))
	}
	c.DevIdP = r.boolean("PORTAL_DEV_IDP", len(c.Providers) == 0)
	c.DemoData = r.boolean("PORTAL_DEMO_DATA", c.Env == Development)
	if c.SessionIdle > c.SessionAbsolute {
		r.fail("PORTAL_SESSION_IDLE_TIMEOUT", "must not be longer than PORTAL_SESSION_ABSOLUTE_TIMEOUT")
	}
	if c.IsProduction() {
		if c.DevIdP {
			r.fail("PORTAL_DEV_IDP", "the development identity provider cannot run in production; configure PORTAL_OIDC_PROVIDERS instead")
		}
		if !c.Secure() {
			r.fail("PORTAL_BASE_URL", "must be an https:// URL in production")
		}
		if c.SessionKey == nil {
			r.fail("PORTAL_SESSION_KEY", "is required in production (base64 of at least 32 random bytes)")
		}
		if c.MasterKey == nil && c.MasterKeyFile == "" {
			r.fail("PORTAL_MASTER_KEY", "is required in production (base64 of 32 random bytes), or PORTAL_MASTER_KEY_FILE naming a file that holds it")
		}
		if c.SMTPURL == "" {
			r.fail("PORTAL_SMTP_URL", "is required in production so notices reach people by email")
		}
	}
	if len(c.Providers) == 0 && !c.DevIdP {
		r.fail("PORTAL_OIDC_PROVIDERS", "no identity provider: configure at least one or enable PORTAL_DEV_IDP outside production")
	}
	return c, errors.Join(r.errs...)
}

// ocidPrefix is what a registered OCID prefix looks like.
var ocidPrefix = regexp.MustCompile(`^ocds-[a-z0-9]{6}$`)

// FromEnvironment loads the configuration from the process environment.
func FromEnvironment() (Config, error) { return Load(os.Getenv) }

// Masked returns name=value pairs for logging at start-up, with every secret
// replaced so keys never reach a log.
func (c Config) Masked() []any {
	mask := func(b []byte) string {
		if len(b) == 0 {
			return "(unset)"
		}
		return "(set, masked)"
	}
	out := []any{
		"env", c.Env, "addr", c.Addr, "base_url", c.BaseURL,
		"database", maskURL(c.DatabaseURL), "data_dir", c.DataDir,
		"session_key", mask(c.SessionKey), "master_key", mask(c.MasterKey),
		"session_idle", c.SessionIdle.String(), "session_absolute", c.SessionAbsolute.String(),
		"dev_idp", c.DevIdP, "demo_data", c.DemoData, "trust_proxy", c.TrustProxy,
		"master_key_file", c.MasterKeyFile, "documents_backend", c.DocumentsBackend, "documents_dir", c.DocumentsDir,
		"upload_max", c.UploadMax, "org_quota", c.OrgQuota, "memory_limit", c.MemoryLimit,
		"smtp", maskURL(c.SMTPURL), "mail_from", c.MailFrom,
		"min_bid_period", fmt.Sprint(c.MinBidPeriod), "ocid_prefix", c.OCIDPrefix,
	}
	if c.DocumentsBackend == DocumentsS3 {
		out = append(out, "s3", fmt.Sprintf("endpoint=%s tls=%t region=%s bucket=%s prefix=%s access_key=%s secret_key=%s",
			c.S3.Endpoint, c.S3.TLS, c.S3.Region, c.S3.Bucket, c.S3.Prefix, c.S3.AccessKey, mask([]byte(c.S3.SecretKey))))
	}
	for _, p := range c.Providers {
		out = append(out, "provider_"+p.ID, fmt.Sprintf("issuer=%s client_id=%s client_secret=%s role_source=%s",
			p.Issuer, p.ClientID, mask([]byte(p.ClientSecret)), p.RoleSource))
	}
	return out
}

// maskURL hides passwords in a URL (database or SMTP), whether in the user
// part or in the query (password=, sslpassword=). A URL that does not parse
// is hidden whole, since it may still hold a password.
func maskURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return raw // a SQLite file path holds no secret
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL, masked)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// KindOfURL says which database a URL selects: "postgres" for postgres://
// and postgresql:// URLs, "sqlite" for anything else (a file path).
func KindOfURL(raw string) string {
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	if slices.Contains(allowed, v) {
		return v
	}
	r.fail(name, fmt.Sprintf("is %q; use one of %s", v, strings.Join(allowed, ", ")))
	return def
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("is %q; use true or false", v))
		return def
	}
	return b
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, fmt.Sprintf("is %q; use a positive duration such as 30m or 12h", v))
		return def
	}
	return d
}

// days reads a whole number of days from 1 to 365.
func (r *reader) days(name string, def int) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return time.Duration(def) * 24 * time.Hour
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 365 {
		r.fail(name, fmt.Sprintf("is %q; use a whole number of days from 1 to 365, such as 10", v))
		return time.Duration(def) * 24 * time.Hour
	}
	return time.Duration(n) * 24 * time.Hour
}

// key decodes a base64 key of at least min bytes (exactly exact, when set).
func (r *reader) key(name string, min, exact int) []byte {
	v := r.str(name, "")
	if v == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(v)
	}
	switch {
	case err != nil:
		r.fail(name, "is not valid base64; make one with: openssl rand -base64 32")
	case exact > 0 && len(b) != exact:
		r.fail(name, fmt.Sprintf("must decode to exactly %d bytes, not %d; make one with: openssl rand -base64 %d", exact, len(b), exact))
	case len(b) < min:
		r.fail(name, fmt.Sprintf("must decode to at least %d bytes, not %d; make one with: openssl rand -base64 %d", min, len(b), min))
	default:
		return b
	}
	return nil
}

func (r *reader) url(name, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, fmt.Sprintf("is %q; use an absolute http:// or https:// URL", v))
	}
}

// size reads a byte count: a whole number, optionally followed by KiB, MiB
// or GiB (or KB, MB, GB, read the same way).
func (r *reader) size(name string, def int64) int64 {
	v := strings.ReplaceAll(r.str(name, ""), " ", "")
	if v == "" {
		return def
	}
	mult := int64(1)
	upper := strings.ToUpper(v)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(upper, u.suffix) {
			mult, v = u.mult, v[:len(v)-len(u.suffix)]
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		r.fail(name, fmt.Sprintf("is %q; use a positive size such as 512MiB or 2GiB", r.str(name, "")))
		return def
	}
	return n * mult
}

func (r *reader) list(name string, def []string) []string {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// s3 reads the PORTAL_S3_* variables. They are always read (so a typo is
// reported whatever the backend) but required only when used.
func (r *reader) s3(used bool) S3Settings {
	s := S3Settings{
		Endpoint:  r.str("PORTAL_S3_ENDPOINT", ""),
		Region:    r.str("PORTAL_S3_REGION", "us-east-1"),
		Bucket:    r.str("PORTAL_S3_BUCKET", ""),
		AccessKey: r.str("PORTAL_S3_ACCESS_KEY", ""),
		SecretKey: r.str("PORTAL_S3_SECRET_KEY", ""),
		TLS:       r.boolean("PORTAL_S3_TLS", true),
		Prefix:    r.str("PORTAL_S3_PREFIX", ""),
	}
	if strings.Contains(s.Endpoint, "/") {
		r.fail("PORTAL_S3_ENDPOINT", fmt.Sprintf("is %q; give host or host:port only, without https:// or a path (PORTAL_S3_TLS chooses HTTPS)", s.Endpoint))
	}
	if !used {
		return s
	}
	for _, v := range []struct{ name, value string }{
		{"PORTAL_S3_ENDPOINT", s.Endpoint}, {"PORTAL_S3_BUCKET", s.Bucket},
		{"PORTAL_S3_ACCESS_KEY", s.AccessKey}, {"PORTAL_S3_SECRET_KEY", s.SecretKey},
	} {
		if v.value == "" {
			r.fail(v.name, "is required with PORTAL_DOCUMENTS_BACKEND=s3")
		}
	}
	return s
}

func (r *reader) provider(id string) Provider {
	lower := strings.ToLower(id)
	for _, ch := range lower {
		if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') {
			r.fail("PORTAL_OIDC_PROVIDERS", fmt.Sprintf("has %q; provider IDs use only letters and digits", id))
			return Provider{ID: lower}
		}
	}
	pre := "PORTAL_OIDC_" + strings.ToUpper(id) + "_"
	p := Provider{
		ID:           lower,
		Label:        r.str(pre+"LABEL", id),
		Issuer:       strings.TrimRight(r.str(pre+"ISSUER", ""), "/"),
		ClientID:     r.str(pre+"CLIENT_ID", ""),
		ClientSecret: r.str(pre+"CLIENT_SECRET", ""),
		Scopes:       r.list(pre+"SCOPES", []string{"openid", "profile", "email"}),
		RoleSource:   r.oneOf(pre+"ROLE_SOURCE", "claims", "claims", "nrbac"),
		OrgClaim:     r.str(pre+"ORG_CLAIM", "org"),
		RoleClaim:    r.str(pre+"ROLE_CLAIM", "roles"),
		RequiredACR:  r.list(pre+"REQUIRED_ACR", nil),
		RoleMap:      map[string]string{},
	}
	if p.Issuer == "" {
		r.fail(pre+"ISSUER", "is required for each provider in PORTAL_OIDC_PROVIDERS")
	} else {
		r.url(pre+"ISSUER", p.Issuer)
	}
	if p.ClientID == "" {
		r.fail(pre+"CLIENT_ID", "is required for each provider in PORTAL_OIDC_PROVIDERS")
	}
	for _, pair := range r.list(pre+"ROLE_MAP", nil) {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			r.fail(pre+"ROLE_MAP", fmt.Sprintf("has %q; write value=role pairs separated by commas", pair))
			continue
		}
		p.RoleMap[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if !slices.Contains(p.Scopes, "openid") {
		p.Scopes = append([]string{"openid"}, p.Scopes...)
	}
	return p
}

// Markdown renders the variables as a README table so the documentation is
// generated from the same list the code reads.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Meaning |\n|---|---|---|\n")
	all := append(append([]Var{}, Vars...), ProviderVars...)
	for _, v := range all {
		def := v.Default
		if def == "" {
			def = "(none)"
		}
		desc := v.Description
		if v.Secret {
			desc += " Secret: masked in logs."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, desc)
	}
	return b.String()
}
