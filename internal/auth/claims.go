package auth

import (
	"strings"

	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/orgs"
)

// MapClaims turns an ID token's claims into the roles they give, following
// the provider's configuration. Roles come from codes in the map, never from
// free-text role names; values the map does not list give nothing.
func MapClaims(p config.Provider, claims map[string]any) []orgs.ClaimedRole {
	var out []orgs.ClaimedRole
	switch p.RoleSource {
	case "nrbac":
		// CIS2: nhsid_nrbac_roles is a list of objects, each with org_code
		// (the ODS code) and role_code (e.g. "S8001:G8005:R8000").
		list, _ := claims["nhsid_nrbac_roles"].([]any)
		for _, item := range list {
			entry, ok := item.(map[string]any)
			if !ok {
				continue
			}
			org := strings.ToUpper(strings.TrimSpace(stringClaim(entry["org_code"])))
			code := strings.TrimSpace(stringClaim(entry["role_code"]))
			if org == "" || code == "" {
				continue
			}
			if role := lookupRole(p.RoleMap, code); role != "" {
				out = append(out, orgs.ClaimedRole{OrgRef: org, Role: role})
			}
		}
	default:
		org := strings.TrimSpace(stringClaim(claims[p.OrgClaim]))
		if org == "" {
			return nil
		}
		for _, v := range stringsClaim(claims[p.RoleClaim]) {
			if role := p.RoleMap[v]; role != "" {
				out = append(out, orgs.ClaimedRole{OrgRef: org, Role: role})
			}
		}
	}
	return out
}

// lookupRole finds a CIS2 role code in the map, by the whole code first and
// then by its last part (the role itself, e.g. R8000), so a map can be
// written either way.
func lookupRole(m map[string]string, code string) string {
	if r := m[code]; r != "" {
		return r
	}
	parts := strings.Split(code, ":")
	return m[parts[len(parts)-1]]
}

func stringClaim(v any) string {
	s, _ := v.(string)
	return s
}

func stringsClaim(v any) []string {
	switch t := v.(type) {
	case string:
		return strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
