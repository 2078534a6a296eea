package auth

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/orgs"
)

// decode turns JSON into claims the way go-oidc hands them over, so lists
// are []any and objects map[string]any.
func decode(t *testing.T, js string) map[string]any {
	t.Helper()
	var claims map[string]any
	if err := json.Unmarshal([]byte(js), &claims); err != nil {
		t.Fatalf("bad test claims: %v", err)
	}
	return claims
}

// With RoleSource nrbac, CIS2's nhsid_nrbac_roles become roles: codes are
// looked up whole or by their last part, ODS codes are upper-cased, and
// unknown codes or malformed entries give nothing.
func TestMapClaimsNRBAC(t *testing.T) {
	p := config.Provider{
		ID:         "cis2",
		RoleSource: "nrbac",
		RoleMap: map[string]string{
			"S8001:G8005:R8000": "trust_lead", // whole code
			"R8003":             "evaluator",  // last part only
			"R8008":             "board_member",
			"R8000":             "evaluator", // shadowed by the whole code above
		},
	}
	tests := []struct {
		name   string
		claims string
		want   []orgs.ClaimedRole
	}{
		{"whole code", `{"nhsid_nrbac_roles":[{"person_roleid":"1","org_code":"RJ7","role_code":"S8001:G8005:R8000"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ7", Role: "trust_lead"}}},
		{"last part of the code", `{"nhsid_nrbac_roles":[{"org_code":"RJ1","role_code":"S8000:G8000:R8003"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ1", Role: "evaluator"}}},
		{"bare role code", `{"nhsid_nrbac_roles":[{"org_code":"RJ1","role_code":"R8008"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ1", Role: "board_member"}}},
		{"whole code wins over its last part", `{"nhsid_nrbac_roles":[{"org_code":"RJ7","role_code":"S8001:G8005:R8000"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ7", Role: "trust_lead"}}},
		{"last part used when the whole code is not listed", `{"nhsid_nrbac_roles":[{"org_code":"RJ7","role_code":"S8000:G8000:R8000"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ7", Role: "evaluator"}}},
		{"lower-case ODS code with spaces", `{"nhsid_nrbac_roles":[{"org_code":" rj7 ","role_code":" R8003 "}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ7", Role: "evaluator"}}},
		{"several roles in order", `{"nhsid_nrbac_roles":[
			{"org_code":"RJ7","role_code":"S8001:G8005:R8000"},
			{"org_code":"RJ1","role_code":"S8000:G8000:R8003"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ7", Role: "trust_lead"}, {OrgRef: "RJ1", Role: "evaluator"}}},
		{"unknown code", `{"nhsid_nrbac_roles":[{"org_code":"RJ7","role_code":"S0080:G0450:R5080"}]}`, nil},
		{"middle part does not match", `{"nhsid_nrbac_roles":[{"org_code":"RJ7","role_code":"R8003:G8000:R9999"}]}`, nil},
		{"malformed entries skipped, good ones kept", `{"nhsid_nrbac_roles":[
			"S8001:G8005:R8000",
			42,
			null,
			["RJ7","R8003"],
			{"org_code":"","role_code":"R8003"},
			{"org_code":"RJ7","role_code":""},
			{"org_code":"RJ7"},
			{"role_code":"R8003"},
			{"org_code":7,"role_code":"R8003"},
			{"org_code":"RJ7","role_code":8003},
			{"org_code":"RJ2","role_code":"R8008"}]}`,
			[]orgs.ClaimedRole{{OrgRef: "RJ2", Role: "board_member"}}},
		{"claim not a list", `{"nhsid_nrbac_roles":{"org_code":"RJ7","role_code":"R8003"}}`, nil},
		{"claim absent", `{"sub":"123"}`, nil},
		// The claims-source claims are ignored for an nrbac provider.
		{"org and roles claims ignored", `{"org":"RJ7","roles":["R8003"]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MapClaims(p, decode(t, tt.claims))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("MapClaims = %v, want %v", got, tt.want)
			}
		})
	}
}

// With RoleSource claims, one claim names the organisation and another holds
// role values as a list or a space- or comma-separated string; only values
// in the map give roles, and without an organisation nothing is given.
func TestMapClaimsFromClaims(t *testing.T) {
	p := config.Provider{
		ID:         "suppliers",
		RoleSource: "claims",
		OrgClaim:   "company",
		RoleClaim:  "groups",
		RoleMap:    map[string]string{"bidder": "supplier_user", "portal-evaluator": "evaluator"},
	}
	tests := []struct {
		name   string
		claims string
		want   []orgs.ClaimedRole
	}{
		{"list", `{"company":"04123456","groups":["bidder","portal-evaluator"]}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "supplier_user"}, {OrgRef: "04123456", Role: "evaluator"}}},
		{"space-separated string", `{"company":"04123456","groups":"bidder portal-evaluator"}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "supplier_user"}, {OrgRef: "04123456", Role: "evaluator"}}},
		{"comma-separated string", `{"company":"04123456","groups":"bidder,portal-evaluator"}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "supplier_user"}, {OrgRef: "04123456", Role: "evaluator"}}},
		{"comma and space", `{"company":"04123456","groups":" bidder ,  portal-evaluator "}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "supplier_user"}, {OrgRef: "04123456", Role: "evaluator"}}},
		{"single string", `{"company":"04123456","groups":"bidder"}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "supplier_user"}}},
		{"organisation trimmed, case kept", `{"company":" sc123456 ","groups":["bidder"]}`,
			[]orgs.ClaimedRole{{OrgRef: "sc123456", Role: "supplier_user"}}},
		{"unmapped values ignored", `{"company":"04123456","groups":["admin","platform_admin","Bidder","bidder"]}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "supplier_user"}}},
		{"non-string list items ignored", `{"company":"04123456","groups":[1,true,null,{"x":"bidder"},"portal-evaluator"]}`,
			[]orgs.ClaimedRole{{OrgRef: "04123456", Role: "evaluator"}}},
		{"role names are not role values", `{"company":"04123456","groups":["supplier_user"]}`, nil},
		{"missing organisation", `{"groups":["bidder"]}`, nil},
		{"blank organisation", `{"company":"   ","groups":["bidder"]}`, nil},
		{"organisation not a string", `{"company":4123456,"groups":["bidder"]}`, nil},
		{"missing roles", `{"company":"04123456"}`, nil},
		{"roles of the wrong type", `{"company":"04123456","groups":{"bidder":true}}`, nil},
		{"default claim names not read", `{"org":"04123456","roles":["bidder"]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MapClaims(p, decode(t, tt.claims))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("MapClaims = %v, want %v", got, tt.want)
			}
		})
	}
}

// A provider configured through config.Load maps claims with its defaults
// (claims source, org and roles claims).
func TestMapClaimsWithLoadedProvider(t *testing.T) {
	vars := map[string]string{
		"PORTAL_OIDC_PROVIDERS":      "corp",
		"PORTAL_OIDC_CORP_ISSUER":    "https://login.example.com",
		"PORTAL_OIDC_CORP_CLIENT_ID": "portal",
		"PORTAL_OIDC_CORP_ROLE_MAP":  "lead=trust_lead",
	}
	c, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := MapClaims(c.Providers[0], decode(t, `{"org":"RJ7","roles":"lead other"}`))
	if want := []orgs.ClaimedRole{{OrgRef: "RJ7", Role: "trust_lead"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("MapClaims = %v, want %v", got, want)
	}
}
