package config_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/config"
)

// envOf turns a map into the getenv function Load reads from.
func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// b64 returns a base64 key of n bytes whose content is recognisable.
func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

// production is a complete, valid production configuration with one
// external provider. Tests copy it and change one thing.
func production() map[string]string {
	return map[string]string{
		"PORTAL_ENV":                      "production",
		"PORTAL_BASE_URL":                 "https://procurement.example.nhs.uk",
		"PORTAL_SESSION_KEY":              b64(32, 's'),
		"PORTAL_MASTER_KEY":               b64(32, 'm'),
		"PORTAL_OIDC_PROVIDERS":           "cis2",
		"PORTAL_OIDC_CIS2_ISSUER":         "https://am.nhsidentity.spineservices.nhs.uk/openam/oauth2/realms/root/realms/oidc",
		"PORTAL_OIDC_CIS2_CLIENT_ID":      "portal-client",
		"PORTAL_OIDC_CIS2_CLIENT_SECRET":  "cis2-client-secret-value",
		"PORTAL_OIDC_CIS2_ROLE_SOURCE":    "nrbac",
		"PORTAL_OIDC_CIS2_ROLE_MAP":       "S8001:G8005:R8000=trust_lead",
		"PORTAL_OIDC_CIS2_SCOPES":         "openid,profile,nationalrbacaccess",
		"PORTAL_OIDC_CIS2_REQUIRED_ACR":   "AAL3_ANY",
		"PORTAL_DATABASE_URL":             "postgres://portal:db-password-value@db.internal:5432/portal?sslmode=require",
		"PORTAL_SESSION_IDLE_TIMEOUT":     "20m",
		"PORTAL_SESSION_ABSOLUTE_TIMEOUT": "10h",
		"PORTAL_TRUST_PROXY":              "true",
		"PORTAL_SUPPORT_EMAIL":            "help@procurement.example.nhs.uk",
		"PORTAL_LOG_FORMAT":               "JSON",
		"PORTAL_LOG_LEVEL":                "warn",
		"PORTAL_ADDR":                     ":9000",
		"PORTAL_SMTP_URL":                 "smtp://mailer:smtp-password-value@smtp.example.nhs.uk:587",
		"PORTAL_DATA_DIR":                 "/var/lib/portal",
		"PORTAL_OIDC_CIS2_LABEL":          "NHS Care Identity",
		"PORTAL_OIDC_CIS2_ORG_CLAIM":      "org",
		"PORTAL_OIDC_CIS2_ROLE_CLAIM":     "roles",
	}
}

// withVars returns a copy of base with changes applied; an empty value removes
// the variable.
func withVars(base map[string]string, changes map[string]string) map[string]string {
	out := maps.Clone(base)
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// With nothing set, the portal starts as a development instance on :8080
// with a SQLite file, the development identity provider and demo data.
func TestDefaults(t *testing.T) {
	c, err := config.Load(envOf(nil))
	if err != nil {
		t.Fatalf("empty environment: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", c.Env, config.Development},
		{"Addr", c.Addr, ":8080"},
		{"BaseURL", c.BaseURL, "http://localhost:8080"},
		{"DatabaseURL", c.DatabaseURL, "data/portal.db"},
		{"DataDir", c.DataDir, "data"},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "text"},
		{"SessionIdle", c.SessionIdle, 30 * time.Minute},
		{"SessionAbsolute", c.SessionAbsolute, 12 * time.Hour},
		{"TrustProxy", c.TrustProxy, false},
		{"DevIdP", c.DevIdP, true},
		{"DemoData", c.DemoData, true},
		{"IsProduction", c.IsProduction(), false},
		{"Secure", c.Secure(), false},
		{"SessionKey is nil", c.SessionKey == nil, true},
		{"MasterKey is nil", c.MasterKey == nil, true},
		{"no providers", len(c.Providers), 0},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

// The database file follows PORTAL_DATA_DIR unless a URL is given, and a
// configured provider turns the development identity provider off by
// default while it can still be switched on explicitly outside production.
func TestDerivedDefaults(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"PORTAL_DATA_DIR": "/srv/portal", "PORTAL_BASE_URL": "http://localhost:8080/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "/srv/portal/portal.db" {
		t.Errorf("DatabaseURL = %q, want the file inside PORTAL_DATA_DIR", c.DatabaseURL)
	}
	if c.BaseURL != "http://localhost:8080" {
		t.Errorf("BaseURL = %q, want the trailing slash trimmed", c.BaseURL)
	}

	withProvider := map[string]string{
		"PORTAL_OIDC_PROVIDERS":      "test",
		"PORTAL_OIDC_TEST_ISSUER":    "https://idp.example.com",
		"PORTAL_OIDC_TEST_CLIENT_ID": "portal",
	}
	c, err = config.Load(envOf(withProvider))
	if err != nil {
		t.Fatal(err)
	}
	if c.DevIdP {
		t.Error("DevIdP is on by default although a provider is configured")
	}
	c, err = config.Load(envOf(withVars(withProvider, map[string]string{"PORTAL_DEV_IDP": "true"})))
	if err != nil || !c.DevIdP {
		t.Errorf("PORTAL_DEV_IDP=true with a provider in development: DevIdP=%v err=%v", c.DevIdP, err)
	}
	c, err = config.Load(envOf(map[string]string{"PORTAL_DEMO_DATA": "false"}))
	if err != nil || c.DemoData {
		t.Errorf("PORTAL_DEMO_DATA=false: DemoData=%v err=%v", c.DemoData, err)
	}
}

// Every bad value stops start-up with an error that names the variable to
// fix.
func TestBadValuesNameTheVariable(t *testing.T) {
	provider := map[string]string{
		"PORTAL_OIDC_PROVIDERS":      "cis2",
		"PORTAL_OIDC_CIS2_ISSUER":    "https://idp.example.com",
		"PORTAL_OIDC_CIS2_CLIENT_ID": "portal",
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the error must name
	}{
		{"unknown environment", map[string]string{"PORTAL_ENV": "staging"}, "PORTAL_ENV"},
		{"unknown log level", map[string]string{"PORTAL_LOG_LEVEL": "verbose"}, "PORTAL_LOG_LEVEL"},
		{"unknown log format", map[string]string{"PORTAL_LOG_FORMAT": "xml"}, "PORTAL_LOG_FORMAT"},
		{"idle timeout not a duration", map[string]string{"PORTAL_SESSION_IDLE_TIMEOUT": "abc"}, "PORTAL_SESSION_IDLE_TIMEOUT"},
		{"idle timeout negative", map[string]string{"PORTAL_SESSION_IDLE_TIMEOUT": "-5m"}, "PORTAL_SESSION_IDLE_TIMEOUT"},
		{"absolute timeout zero", map[string]string{"PORTAL_SESSION_ABSOLUTE_TIMEOUT": "0s"}, "PORTAL_SESSION_ABSOLUTE_TIMEOUT"},
		{"idle longer than absolute", map[string]string{"PORTAL_SESSION_IDLE_TIMEOUT": "2h", "PORTAL_SESSION_ABSOLUTE_TIMEOUT": "1h"}, "PORTAL_SESSION_IDLE_TIMEOUT"},
		{"session key not base64", map[string]string{"PORTAL_SESSION_KEY": "not base64 at all!"}, "PORTAL_SESSION_KEY"},
		{"session key too short", map[string]string{"PORTAL_SESSION_KEY": b64(16, 's')}, "PORTAL_SESSION_KEY"},
		{"master key not base64", map[string]string{"PORTAL_MASTER_KEY": "%%%"}, "PORTAL_MASTER_KEY"},
		{"master key too short", map[string]string{"PORTAL_MASTER_KEY": b64(16, 'm')}, "PORTAL_MASTER_KEY"},
		{"master key too long", map[string]string{"PORTAL_MASTER_KEY": b64(48, 'm')}, "PORTAL_MASTER_KEY"},
		{"base URL not a URL", map[string]string{"PORTAL_BASE_URL": "not a url"}, "PORTAL_BASE_URL"},
		{"base URL without scheme", map[string]string{"PORTAL_BASE_URL": "localhost:8080"}, "PORTAL_BASE_URL"},
		{"base URL with another scheme", map[string]string{"PORTAL_BASE_URL": "ftp://files.example.com"}, "PORTAL_BASE_URL"},
		{"trust proxy not a boolean", map[string]string{"PORTAL_TRUST_PROXY": "maybe"}, "PORTAL_TRUST_PROXY"},
		{"dev IdP not a boolean", map[string]string{"PORTAL_DEV_IDP": "sometimes"}, "PORTAL_DEV_IDP"},
		{"demo data not a boolean", map[string]string{"PORTAL_DEMO_DATA": "yes please"}, "PORTAL_DEMO_DATA"},
		{"no identity provider at all", map[string]string{"PORTAL_DEV_IDP": "false"}, "PORTAL_OIDC_PROVIDERS"},
		{"provider ID with punctuation", map[string]string{"PORTAL_OIDC_PROVIDERS": "cis-2"}, "PORTAL_OIDC_PROVIDERS"},
		{"provider without issuer", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_ISSUER": ""}), "PORTAL_OIDC_CIS2_ISSUER"},
		{"provider issuer not a URL", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_ISSUER": "idp.example.com"}), "PORTAL_OIDC_CIS2_ISSUER"},
		{"provider without client ID", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_CLIENT_ID": ""}), "PORTAL_OIDC_CIS2_CLIENT_ID"},
		{"provider role source unknown", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_ROLE_SOURCE": "ldap"}), "PORTAL_OIDC_CIS2_ROLE_SOURCE"},
		{"role map pair without =", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_ROLE_MAP": "R8000"}), "PORTAL_OIDC_CIS2_ROLE_MAP"},
		{"role map pair without value", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_ROLE_MAP": "=trust_lead"}), "PORTAL_OIDC_CIS2_ROLE_MAP"},
		{"role map pair without role", withVars(provider, map[string]string{"PORTAL_OIDC_CIS2_ROLE_MAP": "R8000=trust_lead,R8003="}), "PORTAL_OIDC_CIS2_ROLE_MAP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(envOf(tt.env))
			if err == nil {
				t.Fatalf("Load(%v) succeeded; want an error naming %s", tt.env, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

// Every problem is reported at once, so an operator fixes them in one go.
func TestAllProblemsReportedTogether(t *testing.T) {
	_, err := config.Load(envOf(map[string]string{
		"PORTAL_ENV":                  "staging",
		"PORTAL_TRUST_PROXY":          "maybe",
		"PORTAL_SESSION_IDLE_TIMEOUT": "abc",
	}))
	if err == nil {
		t.Fatal("three bad values gave no error")
	}
	for _, name := range []string{"PORTAL_ENV", "PORTAL_TRUST_PROXY", "PORTAL_SESSION_IDLE_TIMEOUT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

// Production refuses the insecure development conveniences, each with an
// error naming the variable, and accepts a complete configuration.
func TestProductionRules(t *testing.T) {
	c, err := config.Load(envOf(production()))
	if err != nil {
		t.Fatalf("complete production configuration refused: %v", err)
	}
	if !c.IsProduction() || !c.Secure() || c.DevIdP || c.DemoData {
		t.Fatalf("production config: IsProduction=%v Secure=%v DevIdP=%v DemoData=%v; want true, true, false, false",
			c.IsProduction(), c.Secure(), c.DevIdP, c.DemoData)
	}
	if len(c.SessionKey) != 32 || len(c.MasterKey) != 32 {
		t.Fatalf("keys decoded to %d and %d bytes, want 32 and 32", len(c.SessionKey), len(c.MasterKey))
	}
	if c.SessionIdle != 20*time.Minute || c.SessionAbsolute != 10*time.Hour || !c.TrustProxy || c.LogFormat != "json" || c.LogLevel != "warn" {
		t.Fatalf("explicit values not read: %+v", c)
	}

	tests := []struct {
		name    string
		changes map[string]string
		want    string
	}{
		{"development identity provider", map[string]string{"PORTAL_DEV_IDP": "true"}, "PORTAL_DEV_IDP"},
		{"no provider, so the dev IdP by default", map[string]string{"PORTAL_OIDC_PROVIDERS": ""}, "PORTAL_DEV_IDP"},
		{"plain http base URL", map[string]string{"PORTAL_BASE_URL": "http://procurement.example.nhs.uk"}, "PORTAL_BASE_URL"},
		{"default base URL", map[string]string{"PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL"},
		{"missing session key", map[string]string{"PORTAL_SESSION_KEY": ""}, "PORTAL_SESSION_KEY"},
		{"missing master key", map[string]string{"PORTAL_MASTER_KEY": ""}, "PORTAL_MASTER_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(envOf(withVars(production(), tt.changes)))
			if err == nil {
				t.Fatalf("production with %v accepted; want an error naming %s", tt.changes, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %s", err, tt.want)
			}
		})
	}

	// The same gaps are fine in development.
	dev := withVars(production(), map[string]string{"PORTAL_ENV": "development", "PORTAL_DEV_IDP": "true",
		"PORTAL_BASE_URL": "http://localhost:8080", "PORTAL_SESSION_KEY": "", "PORTAL_MASTER_KEY": ""})
	if _, err := config.Load(envOf(dev)); err != nil {
		t.Fatalf("development with the dev IdP, http and no keys refused: %v", err)
	}
}

// Providers are read from their own variables: openid is always asked for,
// the role map, required acr values and role source are parsed, and unset
// values take their documented defaults.
func TestProviderParsing(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{
		"PORTAL_OIDC_PROVIDERS":           " CIS2 , suppliers ",
		"PORTAL_OIDC_CIS2_ISSUER":         "https://cis2.example.nhs.uk/realms/oidc/",
		"PORTAL_OIDC_CIS2_CLIENT_ID":      "portal",
		"PORTAL_OIDC_CIS2_CLIENT_SECRET":  "shh",
		"PORTAL_OIDC_CIS2_LABEL":          "NHS Care Identity",
		"PORTAL_OIDC_CIS2_SCOPES":         "profile, nationalrbacaccess,selectedrole",
		"PORTAL_OIDC_CIS2_ROLE_SOURCE":    "NRBAC",
		"PORTAL_OIDC_CIS2_ROLE_MAP":       "S8001:G8005:R8000=trust_lead, R8003 = evaluator",
		"PORTAL_OIDC_CIS2_REQUIRED_ACR":   "AAL3_ANY, AAL2_OR_ABOVE",
		"PORTAL_OIDC_SUPPLIERS_ISSUER":    "https://login.suppliers.example.com",
		"PORTAL_OIDC_SUPPLIERS_CLIENT_ID": "portal-suppliers",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Providers) != 2 {
		t.Fatalf("got %d providers, want 2", len(c.Providers))
	}
	cis2, sup := c.Providers[0], c.Providers[1]

	if cis2.ID != "cis2" || cis2.Label != "NHS Care Identity" || cis2.ClientID != "portal" || cis2.ClientSecret != "shh" {
		t.Errorf("cis2 = %+v", cis2)
	}
	if cis2.Issuer != "https://cis2.example.nhs.uk/realms/oidc" {
		t.Errorf("cis2 issuer = %q, want the trailing slash trimmed", cis2.Issuer)
	}
	if want := []string{"openid", "profile", "nationalrbacaccess", "selectedrole"}; !slices.Equal(cis2.Scopes, want) {
		t.Errorf("cis2 scopes = %q, want %q (openid added first)", cis2.Scopes, want)
	}
	if cis2.RoleSource != "nrbac" {
		t.Errorf("cis2 role source = %q, want nrbac", cis2.RoleSource)
	}
	if want := map[string]string{"S8001:G8005:R8000": "trust_lead", "R8003": "evaluator"}; !maps.Equal(cis2.RoleMap, want) {
		t.Errorf("cis2 role map = %v, want %v", cis2.RoleMap, want)
	}
	if want := []string{"AAL3_ANY", "AAL2_OR_ABOVE"}; !slices.Equal(cis2.RequiredACR, want) {
		t.Errorf("cis2 required acr = %q, want %q", cis2.RequiredACR, want)
	}

	if sup.ID != "suppliers" || sup.Label != "suppliers" {
		t.Errorf("suppliers ID/label = %q/%q, want suppliers/suppliers", sup.ID, sup.Label)
	}
	if want := []string{"openid", "profile", "email"}; !slices.Equal(sup.Scopes, want) {
		t.Errorf("suppliers scopes = %q, want the default %q", sup.Scopes, want)
	}
	if sup.RoleSource != "claims" || sup.OrgClaim != "org" || sup.RoleClaim != "roles" {
		t.Errorf("suppliers claims = %q/%q/%q, want claims/org/roles", sup.RoleSource, sup.OrgClaim, sup.RoleClaim)
	}
	if sup.RoleMap == nil || len(sup.RoleMap) != 0 || sup.RequiredACR != nil || sup.ClientSecret != "" {
		t.Errorf("suppliers defaults: role map %v, acr %q, secret %q", sup.RoleMap, sup.RequiredACR, sup.ClientSecret)
	}
}

// A scope list that already has openid is left as written.
func TestProviderScopesKeepOpenIDOnce(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{
		"PORTAL_OIDC_PROVIDERS":   "x",
		"PORTAL_OIDC_X_ISSUER":    "https://idp.example.com",
		"PORTAL_OIDC_X_CLIENT_ID": "portal",
		"PORTAL_OIDC_X_SCOPES":    "email,openid",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"email", "openid"}; !slices.Equal(c.Providers[0].Scopes, want) {
		t.Fatalf("scopes = %q, want %q", c.Providers[0].Scopes, want)
	}
}

// The start-up log line shows the settings but never a secret: not the
// session key, the master key, a client secret or a database password.
func TestMaskedHidesSecrets(t *testing.T) {
	vars := production()
	c, err := config.Load(envOf(vars))
	if err != nil {
		t.Fatal(err)
	}
	// Render the pairs the two ways they reach people: through slog (as the
	// portal logs them) and through fmt.
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", c.Masked()...)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", c.Masked()...)
	out := buf.String() + fmt.Sprint(c.Masked()...)

	secrets := map[string]string{
		"session key (base64)":   vars["PORTAL_SESSION_KEY"],
		"session key (raw)":      string(c.SessionKey),
		"master key (base64)":    vars["PORTAL_MASTER_KEY"],
		"master key (raw)":       string(c.MasterKey),
		"client secret":          vars["PORTAL_OIDC_CIS2_CLIENT_SECRET"],
		"database password":      "db-password-value",
		"database password part": "password-value",
		"smtp password":          "smtp-password-value",
	}
	for what, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("masked output contains the %s:\n%s", what, out)
		}
	}
	shown := []string{
		"production", ":9000", "https://procurement.example.nhs.uk",
		"db.internal:5432", "portal:xxxxx@", "/var/lib/portal",
		"portal-client", vars["PORTAL_OIDC_CIS2_ISSUER"], "nrbac",
		"20m0s", "10h0m0s", "(set, masked)", "provider_cis2",
	}
	for _, s := range shown {
		if !strings.Contains(out, s) {
			t.Errorf("masked output lacks %q:\n%s", s, out)
		}
	}

	// Unset secrets say so rather than showing an empty value.
	dev, err := config.Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(dev.Masked()...); !strings.Contains(got, "(unset)") || !strings.Contains(got, "data/portal.db") {
		t.Errorf("development masked output = %s; want unset keys and the SQLite path shown", got)
	}
}

// Masked returns name/value pairs, so slog never reports a !BADKEY.
func TestMaskedIsPairs(t *testing.T) {
	c, err := config.Load(envOf(production()))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Masked()
	if len(m)%2 != 0 {
		t.Fatalf("Masked has %d items, want name/value pairs", len(m))
	}
	for i := 0; i < len(m); i += 2 {
		if _, ok := m[i].(string); !ok {
			t.Fatalf("item %d (%v) is not a name", i, m[i])
		}
	}
}

// The README table lists every variable Load knows about, marks secrets,
// and names no variable Load does not read.
func TestMarkdownListsEveryVariable(t *testing.T) {
	md := config.Markdown()
	if !strings.HasPrefix(md, "| Variable | Default | Meaning |\n|---|---|---|\n") {
		t.Fatalf("Markdown does not start with the table header:\n%s", md)
	}
	all := append(append([]config.Var{}, config.Vars...), config.ProviderVars...)
	for _, v := range all {
		row := ""
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "| `"+v.Name+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("Markdown has no row for %s", v.Name)
			continue
		}
		if v.Secret != strings.Contains(row, "Secret: masked in logs.") {
			t.Errorf("row for %s: secret=%v but row is %q", v.Name, v.Secret, row)
		}
	}
	if rows := strings.Count(md, "\n| `"); rows != len(all) {
		t.Errorf("Markdown has %d variable rows, want %d", rows, len(all))
	}
}

// The documented variables are exactly the ones Load reads, so the README
// cannot drift from the code.
func TestVarsMatchWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	vars := production()
	_, err := config.Load(func(name string) string {
		read[regexp.MustCompile(`^PORTAL_OIDC_CIS2_`).ReplaceAllString(name, "PORTAL_OIDC_<ID>_")] = true
		return vars[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, v := range append(append([]config.Var{}, config.Vars...), config.ProviderVars...) {
		documented[v.Name] = true
		if !read[v.Name] {
			t.Errorf("%s is documented but Load never reads it", v.Name)
		}
	}
	for name := range read {
		if !documented[name] {
			t.Errorf("Load reads %s but it is not documented in Vars or ProviderVars", name)
		}
	}
}

// TestMaskedHidesDatabasePasswordsEverywhere: passwords in the query string
// and in URLs that do not parse are hidden too.
func TestMaskedHidesDatabasePasswordsEverywhere(t *testing.T) {
	for _, dsn := range []string{
		"postgres://portal@db/portal?password=s3cret-query&sslmode=require",
		"postgres://portal@db/portal?sslpassword=s3cret-query",
		"postgres://portal:50%off-s3cret@db/portal",
	} {
		c, err := config.Load(envOf(map[string]string{"PORTAL_DATABASE_URL": dsn}))
		if err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprint(c.Masked()...)
		if strings.Contains(out, "s3cret") {
			t.Errorf("masked output shows the password of %s: %s", dsn, out)
		}
	}
}

// TestRepeatedProviderIsRefused: two providers with one ID is a mistake.
func TestRepeatedProviderIsRefused(t *testing.T) {
	_, err := config.Load(envOf(map[string]string{
		"PORTAL_OIDC_PROVIDERS":      "cis2,CIS2",
		"PORTAL_OIDC_CIS2_ISSUER":    "https://idp.example",
		"PORTAL_OIDC_CIS2_CLIENT_ID": "portal",
	}))
	if err == nil || !strings.Contains(err.Error(), "PORTAL_OIDC_PROVIDERS") || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("got %v; want an error naming PORTAL_OIDC_PROVIDERS", err)
	}
}

// TestMemoryLimit: PORTAL_MEMORY_LIMIT is a size, 192MiB unless set, and
// `off` (in any case) leaves Go's defaults; anything else is refused by name.
func TestMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{"": config.DefaultMemoryLimit, "256MiB": 256 << 20, "1GiB": 1 << 30, "off": 0, "OFF": 0} {
		c, err := config.Load(envOf(map[string]string{"PORTAL_MEMORY_LIMIT": in}))
		if err != nil || c.MemoryLimit != want {
			t.Errorf("PORTAL_MEMORY_LIMIT=%q gave %d (%v), want %d", in, c.MemoryLimit, err, want)
		}
	}
	for _, bad := range []string{"0", "none", "-5MiB"} {
		if _, err := config.Load(envOf(map[string]string{"PORTAL_MEMORY_LIMIT": bad})); err == nil || !strings.Contains(err.Error(), "PORTAL_MEMORY_LIMIT") {
			t.Errorf("PORTAL_MEMORY_LIMIT=%q: got %v, want an error naming it", bad, err)
		}
	}
}

// TestSizes: upload limits and quotas read plain bytes or KiB/MiB/GiB, and a
// bad size names its variable.
func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{"": 512 << 20, "1024": 1024, "64KiB": 64 << 10, "10 MiB": 10 << 20, "2GiB": 2 << 30, "3mb": 3 << 20} {
		c, err := config.Load(envOf(map[string]string{"PORTAL_UPLOAD_MAX": in}))
		if err != nil || c.UploadMax != want {
			t.Errorf("PORTAL_UPLOAD_MAX=%q gave %d (%v), want %d", in, c.UploadMax, err, want)
		}
	}
	for _, bad := range []string{"-1", "0", "lots", "12TiB", "1.5GiB"} {
		_, err := config.Load(envOf(map[string]string{"PORTAL_ORG_QUOTA": bad}))
		if err == nil || !strings.Contains(err.Error(), "PORTAL_ORG_QUOTA") {
			t.Errorf("PORTAL_ORG_QUOTA=%q: got %v, want an error naming it", bad, err)
		}
	}
}

// TestMinimumBidPeriods: whole days per regime, ten by default; anything
// else names its variable.
func TestMinimumBidPeriods(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"PORTAL_MIN_BID_DAYS_PA2023": "15"}))
	if err != nil || c.MinBidPeriod["pa2023"] != 15*24*time.Hour || c.MinBidPeriod["pcr2015"] != 10*24*time.Hour {
		t.Fatalf("periods %v (err %v)", c.MinBidPeriod, err)
	}
	for _, bad := range []string{"0", "-3", "ten", "1.5", "400"} {
		_, err := config.Load(envOf(map[string]string{"PORTAL_MIN_BID_DAYS_PCR2015": bad}))
		if err == nil || !strings.Contains(err.Error(), "PORTAL_MIN_BID_DAYS_PCR2015") {
			t.Errorf("PORTAL_MIN_BID_DAYS_PCR2015=%q: got %v, want an error naming it", bad, err)
		}
	}
}

// TestOCIDPrefix: the OCID prefix defaults to the development one and a
// malformed one stops start-up naming its variable.
func TestOCIDPrefix(t *testing.T) {
	c, err := config.Load(envOf(nil))
	if err != nil || c.OCIDPrefix != "ocds-nhspp1" {
		t.Fatalf("default prefix %q (err %v)", c.OCIDPrefix, err)
	}
	c, err = config.Load(envOf(map[string]string{"PORTAL_OCID_PREFIX": "ocds-abc123"}))
	if err != nil || c.OCIDPrefix != "ocds-abc123" {
		t.Fatalf("prefix %q (err %v)", c.OCIDPrefix, err)
	}
	for _, bad := range []string{"abc123", "ocds-", "ocds-ABC123", "ocds-abc1234"} {
		_, err := config.Load(envOf(map[string]string{"PORTAL_OCID_PREFIX": bad}))
		if err == nil || !strings.Contains(err.Error(), "PORTAL_OCID_PREFIX") {
			t.Errorf("prefix %q: err %v, want one naming PORTAL_OCID_PREFIX", bad, err)
		}
	}
}

// s3Vars is a complete S3 documents configuration.
func s3Vars() map[string]string {
	return map[string]string{
		"PORTAL_DOCUMENTS_BACKEND": "S3",
		"PORTAL_S3_ENDPOINT":       "s3.eu-west-2.amazonaws.com",
		"PORTAL_S3_REGION":         "eu-west-2",
		"PORTAL_S3_BUCKET":         "portal-documents",
		"PORTAL_S3_ACCESS_KEY":     "AKIAPORTALEXAMPLE",
		"PORTAL_S3_SECRET_KEY":     "s3-secret-key-value",
		"PORTAL_S3_PREFIX":         "prod",
	}
}

// TestDocumentsBackend: documents stay in the local folder unless
// PORTAL_DOCUMENTS_BACKEND=s3, which reads the PORTAL_S3_* settings.
func TestDocumentsBackend(t *testing.T) {
	c, err := config.Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DocumentsBackend != config.DocumentsLocal || c.S3.Region != "us-east-1" || !c.S3.TLS {
		t.Errorf("defaults: backend %q, S3 %+v; want local, us-east-1 and TLS", c.DocumentsBackend, c.S3)
	}

	c, err = config.Load(envOf(s3Vars()))
	if err != nil {
		t.Fatal(err)
	}
	want := config.S3Settings{Endpoint: "s3.eu-west-2.amazonaws.com", Region: "eu-west-2", Bucket: "portal-documents",
		AccessKey: "AKIAPORTALEXAMPLE", SecretKey: "s3-secret-key-value", TLS: true, Prefix: "prod"}
	if c.DocumentsBackend != config.DocumentsS3 || c.S3 != want {
		t.Errorf("backend %q, S3 %+v; want s3 and %+v", c.DocumentsBackend, c.S3, want)
	}
	c, err = config.Load(envOf(withVars(s3Vars(), map[string]string{"PORTAL_S3_ENDPOINT": "127.0.0.1:7070", "PORTAL_S3_TLS": "false", "PORTAL_S3_REGION": ""})))
	if err != nil || c.S3.TLS || c.S3.Endpoint != "127.0.0.1:7070" || c.S3.Region != "us-east-1" {
		t.Errorf("plain HTTP endpoint: S3 %+v (err %v)", c.S3, err)
	}
}

// TestDocumentsBackendProblems: with s3 every missing setting is named, and
// a bad backend, endpoint or TLS flag names its variable whatever the
// backend.
func TestDocumentsBackendProblems(t *testing.T) {
	_, err := config.Load(envOf(map[string]string{"PORTAL_DOCUMENTS_BACKEND": "s3"}))
	for _, name := range []string{"PORTAL_S3_ENDPOINT", "PORTAL_S3_BUCKET", "PORTAL_S3_ACCESS_KEY", "PORTAL_S3_SECRET_KEY"} {
		if err == nil || !strings.Contains(err.Error(), name+" is required with PORTAL_DOCUMENTS_BACKEND=s3") {
			t.Errorf("s3 without settings: err = %v, want %s named", err, name)
		}
	}
	for name := range s3Vars() {
		if name == "PORTAL_DOCUMENTS_BACKEND" || name == "PORTAL_S3_REGION" || name == "PORTAL_S3_PREFIX" {
			continue
		}
		_, err := config.Load(envOf(withVars(s3Vars(), map[string]string{name: ""})))
		if err == nil || !strings.Contains(err.Error(), name) || strings.Count(err.Error(), "is required") != 1 {
			t.Errorf("without %s: err = %v, want that one named", name, err)
		}
	}
	// The local backend needs none of them.
	if _, err := config.Load(envOf(map[string]string{"PORTAL_DOCUMENTS_BACKEND": "local"})); err != nil {
		t.Errorf("local backend: %v", err)
	}
	for name, bad := range map[string]string{
		"PORTAL_DOCUMENTS_BACKEND": "nfs",
		"PORTAL_S3_ENDPOINT":       "https://s3.eu-west-2.amazonaws.com",
		"PORTAL_S3_TLS":            "sometimes",
	} {
		for _, base := range []map[string]string{{}, s3Vars()} {
			_, err := config.Load(envOf(withVars(base, map[string]string{name: bad})))
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: err = %v, want one naming it", name, bad, err)
			}
		}
	}
}

// TestMaskedShowsS3WithoutItsSecret: the start-up line says where documents
// go, never the S3 secret key.
func TestMaskedShowsS3WithoutItsSecret(t *testing.T) {
	c, err := config.Load(envOf(s3Vars()))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", c.Masked()...)
	out := buf.String()
	if strings.Contains(out, "s3-secret-key-value") {
		t.Errorf("masked output shows the S3 secret key:\n%s", out)
	}
	for _, s := range []string{"documents_backend=s3", "s3.eu-west-2.amazonaws.com", "bucket=portal-documents", "prefix=prod", "secret_key=(set, masked)"} {
		if !strings.Contains(out, s) {
			t.Errorf("masked output lacks %q:\n%s", s, out)
		}
	}
	local, err := config.Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", local.Masked()...)
	if got := buf.String(); strings.Contains(got, "secret_key") || !strings.Contains(got, "documents_backend=local") {
		t.Errorf("local backend's masked output = %s; want the backend and no S3 settings", got)
	}
}
