package web

import "github.com/nhsprocure/portal/internal/authz"

// NavLink is one link of the header's menu.
type NavLink struct {
	Href, Label string
}

// menu is the header's menu after Home and Your organisation, in the order
// shown: each link is offered only to people allowed its object and action
// in the organisation they act for. The pages themselves check again; the
// menu only spares people links they would be refused.
var menu = []struct {
	obj, act string
	link     NavLink
}{
	{"catalogue", "read", NavLink{"/catalogues", "Requirements"}},
	{"framework", "read", NavLink{"/frameworks", "Frameworks"}},
	{"calloff", "read", NavLink{"/buy", "Buy"}},
	{"competition", "read", NavLink{"/competitions", "Competitions"}},
	{"evaluation", "score", NavLink{"/evaluations", "Evaluations"}},
	{"contract", "read", NavLink{"/contracts", "Contracts"}},
	{"register", "read", NavLink{"/register", "Contract register"}},
	{"exit", "read", NavLink{"/exit", "Exit tracker"}},
	{"application", "read", NavLink{"/applications", "Applications"}},
	{"documents", "read", NavLink{"/documents", "Documents"}},
	{"administration", "read", NavLink{"/admin", "Administration"}},
	{"audit", "read", NavLink{"/audit", "Audit log"}},
}

// navigation is the menu of v, as the role rules in force allow; none for
// someone not acting for an organisation. It is worked out once for each
// remembered viewer (viewerCache) rather than on every page, as it takes
// a dozen role checks.
func navigation(az *authz.Authorizer, v *Viewer) []NavLink {
	if v == nil || v.ActingOrg == nil {
		return nil
	}
	domain := v.Domain()
	out := make([]NavLink, 0, 2+len(menu))
	out = append(out, NavLink{"/", "Home"}, NavLink{"/organisations/" + v.ActingOrg.ID, "Your organisation"})
	for _, m := range menu {
		if az.Allowed(v.User.ID, domain, m.obj, m.act) {
			out = append(out, m.link)
		}
	}
	return out
}
