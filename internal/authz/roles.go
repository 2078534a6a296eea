package authz

import "slices"

// Role is what a person may do within one organisation.
type Role string

// The portal's roles. The policy file grants each of them permissions.
const (
	PlatformAdmin  Role = "platform_admin"
	ConsortiumLead Role = "consortium_lead"
	TrustLead      Role = "trust_lead"
	Evaluator      Role = "evaluator"
	BoardMember    Role = "board_member"
	SupplierUser   Role = "supplier_user"
	NationalViewer Role = "national_viewer"
	Auditor        Role = "auditor"
)

// Roles lists every role in the order people see them.
var Roles = []Role{PlatformAdmin, ConsortiumLead, TrustLead, Evaluator, BoardMember, SupplierUser, NationalViewer, Auditor}

var labels = map[Role]string{
	PlatformAdmin:  "Platform administrator",
	ConsortiumLead: "Consortium procurement lead",
	TrustLead:      "Trust procurement lead",
	Evaluator:      "Evaluator",
	BoardMember:    "Board member",
	SupplierUser:   "Supplier user",
	NationalViewer: "National programme viewer",
	Auditor:        "Auditor",
}

// kinds says which kinds of organisation a role can be held in. Granting a
// role elsewhere is refused (and would give nothing under the policy).
var kinds = map[Role][]string{
	PlatformAdmin:  {"platform"},
	Auditor:        {"platform"},
	NationalViewer: {"national"},
	ConsortiumLead: {"consortium"},
	TrustLead:      {"trust"},
	Evaluator:      {"trust", "consortium"},
	BoardMember:    {"trust"},
	SupplierUser:   {"supplier"},
}

// Label is the plain-English name of the role.
func (r Role) Label() string {
	if l, ok := labels[r]; ok {
		return l
	}
	return string(r)
}

// Valid reports whether r is one of the portal's roles.
func (r Role) Valid() bool { _, ok := labels[r]; return ok }

// AllowedIn reports whether r can be held in an organisation of this kind.
func (r Role) AllowedIn(kind string) bool { return slices.Contains(kinds[r], kind) }

// Kinds lists the organisation kinds r can be held in.
func (r Role) Kinds() []string { return kinds[r] }
