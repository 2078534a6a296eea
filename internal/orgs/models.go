// Package orgs holds the organisations that use the portal (trusts,
// suppliers, consortia, the national programme and the platform operator),
// the people who sign in and the roles they hold in each organisation.
package orgs

import "time"

// Kinds of organisation.
const (
	KindTrust      = "trust"
	KindSupplier   = "supplier"
	KindConsortium = "consortium"
	KindNational   = "national"
	KindPlatform   = "platform"
)

// Kinds lists every kind in the order forms offer them.
var Kinds = []string{KindTrust, KindSupplier, KindConsortium, KindNational, KindPlatform}

// KindLabel is the plain-English name of a kind.
func KindLabel(kind string) string {
	switch kind {
	case KindTrust:
		return "NHS trust"
	case KindSupplier:
		return "Supplier"
	case KindConsortium:
		return "Consortium"
	case KindNational:
		return "National programme"
	case KindPlatform:
		return "Platform operator"
	}
	return kind
}

// Regions are the NHS national groupings used in the ODS trust file; they
// match the national programme's local service provider areas.
var Regions = []struct{ Code, Name string }{
	{"Y56", "London"},
	{"Y57", "South"},
	{"Y54", "North"},
	{"Y55", "Midlands and East"},
	{"W00", "Wales"},
}

// RegionName returns the name of a region code, or the code itself.
func RegionName(code string) string {
	for _, r := range Regions {
		if r.Code == code {
			return r.Name
		}
	}
	return code
}

// Organisation is a trust, supplier, consortium, the national programme or
// the platform operator. A consortium has a lead organisation and member
// trusts; a trust has an ODS code; a supplier a Companies House number.
type Organisation struct {
	ID                   string
	Kind                 string
	Name                 string
	ODSCode              *string `gorm:"column:ods_code"`
	Region               string
	CompaniesHouseNumber *string
	LeadOrganisationID   *string
	Lead                 *Organisation `gorm:"foreignKey:LeadOrganisationID"`
	Version              int
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// KindLabel is the plain-English name of the organisation's kind.
func (o Organisation) KindLabel() string { return KindLabel(o.Kind) }

// RegionName is the plain-English name of the organisation's region.
func (o Organisation) RegionName() string { return RegionName(o.Region) }

// ODS returns the ODS code or "".
func (o Organisation) ODS() string { return deref(o.ODSCode) }

// CompaniesHouse returns the Companies House number or "".
func (o Organisation) CompaniesHouse() string { return deref(o.CompaniesHouseNumber) }

// ConsortiumMember records a trust's membership of a consortium over time;
// leaving sets LeftOn rather than deleting the row, so history is kept.
type ConsortiumMember struct {
	ID           string
	ConsortiumID string
	TrustID      string
	Trust        Organisation `gorm:"foreignKey:TrustID"`
	JoinedOn     time.Time
	LeftOn       *time.Time
	CreatedAt    time.Time
}

// Current reports whether the trust is a member on day.
func (m ConsortiumMember) Current(day time.Time) bool {
	return !m.JoinedOn.After(day) && (m.LeftOn == nil || m.LeftOn.After(day))
}

// User is a person, keyed by the identity provider that vouches for them
// (issuer) and the identifier it gives them (subject). Email and name are
// shown, never used to identify.
type User struct {
	ID          string
	Issuer      string
	Subject     string
	Email       string
	Name        string
	DisabledAt  *time.Time
	LastLoginAt *time.Time
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Disabled reports whether the user may no longer sign in.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// DisplayName is the name, or the email when no name is known.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	if u.Email != "" {
		return u.Email
	}
	return u.Subject
}

// Membership sources: granted in the portal, or derived from identity
// provider claims at each sign-in.
const (
	SourcePortal   = "portal"
	SourceIdentity = "identity_provider"
)

// Membership gives a user a role in an organisation.
type Membership struct {
	ID             string
	UserID         string
	User           User `gorm:"foreignKey:UserID"`
	OrganisationID string
	Organisation   Organisation `gorm:"foreignKey:OrganisationID"`
	Role           string
	Source         string
	CreatedAt      time.Time
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
