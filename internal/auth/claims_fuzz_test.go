package auth

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/orgs"
)

// fuzzProviders are a CIS2 provider reading nhsid_nrbac_roles and one
// reading an organisation claim and a roles claim, configured the way
// start-up reads them.
func fuzzProviders(f *testing.F) (nrbac, claims config.Provider) {
	vars := map[string]string{
		"PORTAL_OIDC_PROVIDERS":             "cis2,suppliers",
		"PORTAL_OIDC_CIS2_ISSUER":           "https://cis2.example.nhs.uk",
		"PORTAL_OIDC_CIS2_CLIENT_ID":        "portal",
		"PORTAL_OIDC_CIS2_ROLE_SOURCE":      "nrbac",
		"PORTAL_OIDC_CIS2_ROLE_MAP":         "S8001:G8005:R8000=trust_lead,R8003=evaluator,R8008=board_member",
		"PORTAL_OIDC_CIS2_REQUIRED_ACR":     "AAL3_ANY",
		"PORTAL_OIDC_SUPPLIERS_ISSUER":      "https://login.suppliers.example.com",
		"PORTAL_OIDC_SUPPLIERS_CLIENT_ID":   "portal-suppliers",
		"PORTAL_OIDC_SUPPLIERS_ORG_CLAIM":   "company",
		"PORTAL_OIDC_SUPPLIERS_ROLE_CLAIM":  "groups",
		"PORTAL_OIDC_SUPPLIERS_ROLE_MAP":    "bidder=supplier_user,portal-evaluator=evaluator",
		"PORTAL_OIDC_SUPPLIERS_ROLE_SOURCE": "claims",
	}
	c, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		f.Fatal(err)
	}
	return c.Providers[0], c.Providers[1]
}

// Whatever JSON an ID token carries, MapClaims gives only roles the
// provider's map lists, each in an organisation a claim names, from the
// claims its role source reads and no others; it leaves the claims as they
// were. The acr read for the assurance check is the claim itself or
// nothing. The seed corpus is in testdata/fuzz/FuzzMapClaims/.
func FuzzMapClaims(f *testing.F) {
	f.Add([]byte(`{"nhsid_nrbac_roles":[{"org_code":"rj7","role_code":"S8001:G8005:R8000"}],"company":"04123456","groups":"bidder","acr":"AAL3_ANY"}`))
	f.Add([]byte(`{"nhsid_nrbac_roles":{"org_code":"RJ7"},"groups":["bidder",1,null]}`))
	f.Add([]byte(`[]`))
	nrbac, byClaims := fuzzProviders(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if err := json.Unmarshal(data, &claims); err != nil {
			claims = nil
		}
		before, _ := json.Marshal(claims)

		got := MapClaims(nrbac, claims)
		entries, _ := claims["nhsid_nrbac_roles"].([]any)
		next := 0 // roles follow the order of the entries that give them
		for _, r := range got {
			if !slices.Contains(mapRoles(nrbac), r.Role) || r.OrgRef == "" {
				t.Fatalf("role %+v not from the map", r)
			}
			found := false
			for ; next < len(entries) && !found; next++ {
				e, _ := entries[next].(map[string]any)
				org, _ := e["org_code"].(string)
				code, _ := e["role_code"].(string)
				code = strings.TrimSpace(code)
				parts := strings.Split(code, ":")
				found = strings.ToUpper(strings.TrimSpace(org)) == r.OrgRef &&
					(nrbac.RoleMap[code] == r.Role || nrbac.RoleMap[parts[len(parts)-1]] == r.Role)
			}
			if !found {
				t.Fatalf("role %+v not from an nhsid_nrbac_roles entry of %s", r, data)
			}
		}
		// An entry whose whole code is in the map, in a named
		// organisation, always gives its role.
		for _, item := range entries {
			e, _ := item.(map[string]any)
			org, _ := e["org_code"].(string)
			code, _ := e["role_code"].(string)
			role := nrbac.RoleMap[strings.TrimSpace(code)]
			if strings.TrimSpace(org) != "" && role != "" && !slices.ContainsFunc(got, func(r orgs.ClaimedRole) bool {
				return r.Role == role && r.OrgRef == strings.ToUpper(strings.TrimSpace(org))
			}) {
				t.Fatalf("entry %v gave no role: %+v", e, got)
			}
		}
		if !slices.Equal(got, MapClaims(nrbac, without(claims, byClaims.OrgClaim, byClaims.RoleClaim, nrbac.OrgClaim, nrbac.RoleClaim))) {
			t.Fatal("an nrbac provider read the organisation or roles claim")
		}

		got = MapClaims(byClaims, claims)
		org, _ := claims[byClaims.OrgClaim].(string)
		for _, r := range got {
			if !slices.Contains(mapRoles(byClaims), r.Role) || r.OrgRef == "" || r.OrgRef != strings.TrimSpace(org) {
				t.Fatalf("role %+v not from the map and the %s claim", r, byClaims.OrgClaim)
			}
			if !slices.ContainsFunc(mapValues(byClaims, r.Role), func(v string) bool { return claimHolds(claims[byClaims.RoleClaim], v) }) {
				t.Fatalf("role %+v not from a value of the %s claim in %s", r, byClaims.RoleClaim, data)
			}
		}
		if !slices.Equal(got, MapClaims(byClaims, without(claims, "nhsid_nrbac_roles"))) {
			t.Fatal("a claims provider read nhsid_nrbac_roles")
		}

		if acr := stringClaim(claims["acr"]); acr != "" && acr != claims["acr"] {
			t.Fatalf("acr %v read as %q", claims["acr"], acr)
		}
		if after, _ := json.Marshal(claims); !bytes.Equal(before, after) {
			t.Fatalf("claims changed from %s to %s", before, after)
		}
	})
}

// mapRoles lists the roles a provider's map can give.
func mapRoles(p config.Provider) []string {
	var out []string
	for _, r := range p.RoleMap {
		out = append(out, r)
	}
	return out
}

// mapValues lists the claim values the provider's map gives role for.
func mapValues(p config.Provider, role string) []string {
	var out []string
	for v, r := range p.RoleMap {
		if r == role {
			out = append(out, v)
		}
	}
	return out
}

// claimHolds reports whether a roles claim holds value: as an item of a
// list, or as a word of a string (between spaces or commas).
func claimHolds(claim any, value string) bool {
	switch t := claim.(type) {
	case string:
		return !strings.ContainsAny(value, " ,") && slices.Contains(strings.Split(strings.ReplaceAll(t, ",", " "), " "), value)
	case []any:
		return slices.Contains(t, any(value))
	}
	return false
}

// without copies claims leaving out the keys named.
func without(claims map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}
