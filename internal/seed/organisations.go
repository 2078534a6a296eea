package seed

import (
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
)

// englishRegions are the regions made-up trusts and consortia are in (the
// exit tracker's national contracts cover these).
var englishRegions = []string{"Y56", "Y57", "Y54", "Y55"}

// batch is how many ordinary rows one INSERT carries.
const batch = 1000

// organisations brings trusts, consortia and suppliers up to the scale and
// gives each organisation a lead who can sign in: a trust procurement lead
// per trust, a consortium lead per consortium and a supplier user per
// supplier, where the demo has none.
func (g *generator) organisations(tx *gorm.DB) error {
	if err := tx.Where("kind = ?", orgs.KindTrust).Order("ods_code").Find(&g.trusts).Error; err != nil {
		return fmt.Errorf("read trusts: %w", err)
	}
	var created []orgs.Organisation
	for i := len(g.trusts); i < g.sc.Trusts; i++ {
		t := orgs.Organisation{ID: g.id(), Kind: orgs.KindTrust, Version: 1, CreatedAt: g.now, UpdatedAt: g.now,
			Name:    fmt.Sprintf("%s %s", pick(g, places), pick(g, trustKinds)),
			ODSCode: ptr(fmt.Sprintf("Z%02d", i-len(g.trusts)+1)), Region: pick(g, englishRegions)}
		created = append(created, t)
		g.trusts = append(g.trusts, t)
	}
	g.byRegion = map[string][]int{}
	for i, t := range g.trusts {
		g.byRegion[t.Region] = append(g.byRegion[t.Region], i)
	}
	if err := tx.Where("kind = ?", orgs.KindSupplier).Order("companies_house_number").Find(&g.suppliers).Error; err != nil {
		return fmt.Errorf("read suppliers: %w", err)
	}
	names := g.supplierNames(g.sc.Suppliers)
	for i := len(g.suppliers); i < g.sc.Suppliers; i++ {
		s := orgs.Organisation{ID: g.id(), Kind: orgs.KindSupplier, Name: names[i], Version: 1, CreatedAt: g.now, UpdatedAt: g.now,
			CompaniesHouseNumber: ptr(fmt.Sprintf("09%06d", i))}
		created = append(created, s)
		g.suppliers = append(g.suppliers, s)
	}
	members, err := g.consortiaTo(tx, &created)
	if err != nil {
		return err
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(created, batch).Error; err != nil {
		return fmt.Errorf("create organisations: %w", err)
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(members, batch).Error; err != nil {
		return fmt.Errorf("create consortium members: %w", err)
	}
	g.counts.Trusts, g.counts.Suppliers, g.counts.Consortia = len(g.trusts), len(g.suppliers), len(g.consortia)
	return g.leads(tx)
}

// supplierNames draws n distinct supplier names.
func (g *generator) supplierNames(n int) []string {
	var all []string
	for _, s := range supplierStems {
		for _, f := range supplierFields {
			for _, x := range supplierSuffixes {
				all = append(all, s+" "+f+" "+x)
			}
		}
	}
	out := sample(g, all, n)
	for i := len(out); i < n; i++ { // more suppliers than names: number them
		out = append(out, fmt.Sprintf("%s %d", all[i%len(all)], i/len(all)+1))
	}
	return out
}

// consortiaTo reads the demo consortia and adds made-up ones, each a lead
// trust and four to eight other trusts of its region, appending the new
// organisations to created and returning the new memberships.
func (g *generator) consortiaTo(tx *gorm.DB, created *[]orgs.Organisation) ([]orgs.ConsortiumMember, error) {
	var existing []orgs.Organisation
	if err := tx.Where("kind = ?", orgs.KindConsortium).Order("name").Find(&existing).Error; err != nil {
		return nil, fmt.Errorf("read consortia: %w", err)
	}
	for _, c := range existing {
		var ms []orgs.ConsortiumMember
		// Ordered by ODS code, not by ID: the demo's IDs differ from one
		// database to the next, and the order must repeat for a seed.
		if err := tx.Where("consortium_id = ? AND left_on IS NULL", c.ID).
			Order("(SELECT ods_code FROM organisations o WHERE o.id = consortium_members.trust_id)").Find(&ms).Error; err != nil {
			return nil, fmt.Errorf("read consortium members: %w", err)
		}
		k := consortium{org: c}
		for _, m := range ms {
			k.members = append(k.members, m.TrustID)
		}
		g.consortia = append(g.consortia, k)
	}
	joined := day(g.now.AddDate(-3, 0, 0))
	var members []orgs.ConsortiumMember
	for i := len(g.consortia); i < g.sc.Consortia; i++ {
		region := englishRegions[i%len(englishRegions)]
		trusts := sample(g, g.byRegion[region], 5+g.rnd.IntN(5))
		lead := g.trusts[trusts[0]]
		c := orgs.Organisation{ID: g.id(), Kind: orgs.KindConsortium, Region: region, LeadOrganisationID: &lead.ID, Version: 1,
			CreatedAt: g.now, UpdatedAt: g.now,
			Name: fmt.Sprintf("%s and %s %s", strings.Fields(lead.Name)[0], pick(g, places), pick(g, consortiumKinds))}
		*created = append(*created, c)
		k := consortium{org: c}
		for _, t := range trusts {
			id := g.trusts[t].ID
			k.members = append(k.members, id)
			members = append(members, orgs.ConsortiumMember{ID: g.id(), ConsortiumID: c.ID, TrustID: id, JoinedOn: joined, CreatedAt: g.now})
		}
		g.consortia = append(g.consortia, k)
	}
	return members, nil
}

// leads gives every trust, consortium and supplier without a lead one
// made-up person and remembers who leads each organisation.
func (g *generator) leads(tx *gorm.DB) error {
	var have []orgs.Membership
	if err := tx.Where("role IN ?", []string{string(authz.TrustLead), string(authz.ConsortiumLead), string(authz.SupplierUser)}).
		Order("(SELECT subject FROM users u WHERE u.id = memberships.user_id)").Find(&have).Error; err != nil {
		return fmt.Errorf("read memberships: %w", err)
	}
	g.leadOf = map[string]string{}
	for _, m := range have {
		if g.leadOf[m.OrganisationID] == "" {
			g.leadOf[m.OrganisationID] = m.UserID
		}
	}
	var users []orgs.User
	var ms []orgs.Membership
	add := func(o orgs.Organisation, role authz.Role, domain string) {
		if g.leadOf[o.ID] != "" {
			return
		}
		given, family := pick(g, givenNames), pick(g, familyNames)
		g.subjectSeq++
		u := orgs.User{ID: g.id(), Issuer: g.issuer, Subject: fmt.Sprintf("seed-%s-%05d", role, g.subjectSeq),
			Name: given + " " + family, Email: fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(given), strings.ToLower(family), g.subjectSeq, domain),
			Version: 1, CreatedAt: g.now, UpdatedAt: g.now}
		users = append(users, u)
		ms = append(ms, orgs.Membership{ID: g.id(), UserID: u.ID, OrganisationID: o.ID, Role: string(role), Source: orgs.SourcePortal, CreatedAt: g.now})
		g.leadOf[o.ID] = u.ID
		g.people = append(g.people, person{userID: u.ID, label: u.Name, orgID: o.ID})
	}
	for _, t := range g.trusts {
		add(t, authz.TrustLead, "trust.example.nhs.uk")
	}
	for _, c := range g.consortia {
		add(c.org, authz.ConsortiumLead, "consortium.example.nhs.uk")
	}
	for _, s := range g.suppliers {
		add(s, authz.SupplierUser, "supplier.example.com")
	}
	if err := tx.CreateInBatches(users, batch).Error; err != nil {
		return fmt.Errorf("create people: %w", err)
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(ms, batch).Error; err != nil {
		return fmt.Errorf("create roles: %w", err)
	}
	g.counts.Users = len(users)
	// Every instance's role rules reload to see the new people.
	return authz.Changed(tx)
}
