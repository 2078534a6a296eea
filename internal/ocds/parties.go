package ocds

import (
	"slices"

	"github.com/nhsprocure/portal/internal/orgs"
)

// Identifier schemes from org-id.guide: NHS organisation (ODS) codes and
// Companies House numbers.
const (
	SchemeODS            = "GB-NHS"
	SchemeCompaniesHouse = "GB-COH"
)

// partyID is how a release names an organisation: its ODS code or
// Companies House number with the scheme, so the same organisation has the
// same ID in every publisher's data; otherwise the portal's own ID.
func partyID(o orgs.Organisation) string {
	if id := identifier(o); id != nil {
		return id.Scheme + "-" + id.ID
	}
	return o.ID
}

// identifier is the organisation's registered identifier, nil without one.
func identifier(o orgs.Organisation) *Identifier {
	switch {
	case o.ODS() != "":
		return &Identifier{Scheme: SchemeODS, ID: o.ODS(), LegalName: o.Name}
	case o.CompaniesHouse() != "":
		return &Identifier{Scheme: SchemeCompaniesHouse, ID: o.CompaniesHouse(), LegalName: o.Name}
	}
	return nil
}

// ref points at the organisation's party.
func ref(o orgs.Organisation) *OrgRef { return &OrgRef{ID: partyID(o), Name: o.Name} }

// parties gathers the organisations a release names, each once with every
// role it plays, in the order first named.
type parties struct{ list []Organization }

// add names the organisation in role.
func (p *parties) add(o orgs.Organisation, role string) {
	id := partyID(o)
	for i := range p.list {
		if p.list[i].ID == id {
			if !slices.Contains(p.list[i].Roles, role) {
				p.list[i].Roles = append(p.list[i].Roles, role)
			}
			return
		}
	}
	party := Organization{ID: id, Name: o.Name, Identifier: identifier(o), Roles: []string{role}}
	if o.Region != "" {
		party.Address = &Address{Region: o.RegionName(), CountryName: "United Kingdom"}
	}
	p.list = append(p.list, party)
}
