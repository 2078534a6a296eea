package orgs

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
)

// trustsCSV is NHS Digital's ODS "etr" file of English NHS trusts (Open
// Government Licence v3), carried in the binary so demo data loads anywhere.
//
//go:embed data/nhs-trusts-etr.csv
var trustsCSV []byte

// Trust is one row of the ODS trust file.
type Trust struct {
	ODSCode string
	Name    string
	Region  string
}

// ParseTrusts reads ODS "etr" rows (no header), keeping trusts still open.
func ParseTrusts(r io.Reader) ([]Trust, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []Trust
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("trust file line %d: %w", line, err)
		}
		if len(rec) < 12 {
			return nil, fmt.Errorf("trust file line %d: expected at least 12 columns, found %d", line, len(rec))
		}
		if strings.TrimSpace(rec[11]) != "" {
			continue // closed
		}
		out = append(out, Trust{ODSCode: strings.TrimSpace(rec[0]), Name: TitleCase(rec[1]), Region: strings.TrimSpace(rec[2])})
	}
}

// TitleCase turns the ODS file's capitals into the way trusts write their
// names ("St George's University Hospitals NHS Foundation Trust").
func TitleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		switch {
		case w == "nhs":
			words[i] = "NHS"
		case i > 0 && (w == "and" || w == "of" || w == "for" || w == "the" || w == "on" || w == "upon" || w == "in"):
		default:
			parts := strings.Split(w, "-")
			for j, p := range parts {
				if p != "" {
					parts[j] = strings.ToUpper(p[:1]) + p[1:]
				}
			}
			words[i] = strings.Join(parts, "-")
		}
	}
	return strings.Join(words, " ")
}

// DemoUser is one of the demo people, one per role.
type DemoUser struct {
	Subject string
	Name    string
	Email   string
	Role    authz.Role
	OrgRef  string // ODS code, Companies House number or demo name of a consortium, national or platform organisation
}

// Names of the demo organisations that have no code of their own.
const (
	DemoPlatform   = "NHS Procurement Portal"
	DemoNational   = "NHS England national programme"
	DemoLondon     = "South London Clinical Systems Consortium"
	DemoYorkshire  = "Yorkshire and Humber EPR Consortium"
	demoJoinedDate = "2014-04-01"
)

var demoLondonTrusts = []string{"RJ7", "RJ1", "RJZ", "RJ2", "RJ6", "RVR"}
var demoYorkshireTrusts = []string{"RR8", "RAE", "RCB", "RWY"}

var demoSuppliers = []struct{ Name, Number string }{
	{"Meridian Health Systems Ltd", "04123456"},
	{"Northgate Clinical Software Ltd", "05234567"},
	{"Caldicott Cloud Hosting Ltd", "06345678"},
	{"Albion Imaging Ltd", "07456789"},
	{"Thameside Digital Care Ltd", "SC123456"},
}

// DemoUsers lists the demo people: one for every role, plus a second board
// member and supplier user so cross-organisation rules can be tried, and a
// second consortium lead, since opening sealed applications takes two.
var DemoUsers = []DemoUser{
	{"demo-platform-admin", "Priya Shah", "priya.shah@procurement.example.nhs.uk", authz.PlatformAdmin, DemoPlatform},
	{"demo-auditor", "Graham Pike", "graham.pike@procurement.example.nhs.uk", authz.Auditor, DemoPlatform},
	{"demo-national-viewer", "Helen Okafor", "helen.okafor@england.example.nhs.uk", authz.NationalViewer, DemoNational},
	{"demo-consortium-lead", "Tom Reilly", "tom.reilly@stgeorges.example.nhs.uk", authz.ConsortiumLead, DemoLondon},
	{"demo-consortium-lead-2", "Nadia Haddad", "nadia.haddad@gstt.example.nhs.uk", authz.ConsortiumLead, DemoLondon},
	{"demo-trust-lead", "Aisha Khan", "aisha.khan@stgeorges.example.nhs.uk", authz.TrustLead, "RJ7"},
	{"demo-evaluator", "Ben Carter", "ben.carter@stgeorges.example.nhs.uk", authz.Evaluator, "RJ7"},
	{"demo-board-member", "Margaret Ellis", "margaret.ellis@stgeorges.example.nhs.uk", authz.BoardMember, "RJ7"},
	{"demo-board-member-gstt", "David Osei", "david.osei@gstt.example.nhs.uk", authz.BoardMember, "RJ1"},
	{"demo-supplier", "Sarah Lund", "sarah.lund@meridian.example.com", authz.SupplierUser, "04123456"},
	{"demo-supplier-2", "James Whitfield", "james.whitfield@northgate.example.com", authz.SupplierUser, "05234567"},
}

// SeedDemo loads the demo organisations and people. It is idempotent: a
// second run finds everything in place and changes nothing. Demo users
// belong to devIssuer, the built-in development identity provider.
func SeedDemo(ctx context.Context, db *gorm.DB, log *audit.Log, now time.Time, devIssuer string) (created int, err error) {
	trusts, err := ParseTrusts(bytes.NewReader(trustsCSV))
	if err != nil {
		return 0, err
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s := seeder{tx: tx, now: now}
		for _, t := range trusts {
			s.org(KindTrust, t.Name, func(o *Organisation) { o.ODSCode = ptr(t.ODSCode); o.Region = t.Region }, "ods_code = ?", t.ODSCode)
		}
		for _, sup := range demoSuppliers {
			s.org(KindSupplier, sup.Name, func(o *Organisation) { o.CompaniesHouseNumber = ptr(sup.Number) }, "companies_house_number = ?", sup.Number)
		}
		s.org(KindPlatform, DemoPlatform, nil, "kind = ? AND name = ?", KindPlatform, DemoPlatform)
		s.org(KindNational, DemoNational, nil, "kind = ? AND name = ?", KindNational, DemoNational)
		s.consortium(DemoLondon, "Y56", demoLondonTrusts)
		s.consortium(DemoYorkshire, "Y54", demoYorkshireTrusts)
		for _, u := range DemoUsers {
			s.user(devIssuer, u)
		}
		if s.err != nil {
			return s.err
		}
		created = s.created
		if s.created == 0 {
			return nil
		}
		if err := authz.Changed(tx); err != nil {
			return err
		}
		return log.Append(tx, audit.System, audit.Event{
			Action: "seed.demo", ObjectType: "portal", Detail: map[string]any{"records_created": s.created},
		})
	})
	return created, err
}

// seeder creates what is missing and remembers the first error.
type seeder struct {
	tx      *gorm.DB
	now     time.Time
	created int
	err     error
	byRef   map[string]string // ODS code, Companies House number or name -> id
}

func (s *seeder) ref(key string) string { return s.byRef[key] }

func (s *seeder) remember(keys []string, id string) {
	if s.byRef == nil {
		s.byRef = map[string]string{}
	}
	for _, k := range keys {
		s.byRef[k] = id
	}
}

func (s *seeder) org(kind, name string, set func(*Organisation), where string, args ...any) string {
	if s.err != nil {
		return ""
	}
	var o Organisation
	err := s.tx.Where(where, args...).First(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		o = Organisation{ID: newID(), Kind: kind, Name: name, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
		if set != nil {
			set(&o)
		}
		err = s.tx.Create(&o).Error
		s.created++
	}
	if err != nil {
		s.err = fmt.Errorf("seed %s %s: %w", kind, name, err)
		return ""
	}
	s.remember([]string{name, o.ODS(), o.CompaniesHouse()}, o.ID)
	return o.ID
}

func (s *seeder) consortium(name, region string, members []string) {
	lead := s.ref(members[0])
	id := s.org(KindConsortium, name, func(o *Organisation) { o.LeadOrganisationID = &lead; o.Region = region }, "kind = ? AND name = ?", KindConsortium, name)
	joined, _ := time.Parse(time.DateOnly, demoJoinedDate)
	for _, code := range members {
		if s.err != nil {
			return
		}
		trustID := s.ref(code)
		var n int64
		s.tx.Model(&ConsortiumMember{}).Where("consortium_id = ? AND trust_id = ?", id, trustID).Count(&n)
		if n > 0 {
			continue
		}
		if err := s.tx.Create(&ConsortiumMember{ID: newID(), ConsortiumID: id, TrustID: trustID, JoinedOn: joined, CreatedAt: s.now}).Error; err != nil {
			s.err = fmt.Errorf("seed consortium member %s: %w", code, err)
			return
		}
		s.created++
	}
}

func (s *seeder) user(issuer string, d DemoUser) {
	if s.err != nil {
		return
	}
	var u User
	err := s.tx.Where("issuer = ? AND subject = ?", issuer, d.Subject).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		u = User{ID: newID(), Issuer: issuer, Subject: d.Subject, Name: d.Name, Email: d.Email, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
		err = s.tx.Create(&u).Error
		s.created++
	}
	if err != nil {
		s.err = fmt.Errorf("seed user %s: %w", d.Subject, err)
		return
	}
	orgID := s.ref(d.OrgRef)
	var n int64
	s.tx.Model(&Membership{}).Where("user_id = ? AND organisation_id = ? AND role = ?", u.ID, orgID, string(d.Role)).Count(&n)
	if n > 0 {
		return
	}
	m := Membership{ID: newID(), UserID: u.ID, OrganisationID: orgID, Role: string(d.Role), Source: SourcePortal, CreatedAt: s.now}
	if err := s.tx.Create(&m).Error; err != nil {
		s.err = fmt.Errorf("seed role of %s: %w", d.Subject, err)
		return
	}
	s.created++
}
