package contracts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// otherTrusts are n trusts other than those the fixture names, by ODS code.
func otherTrusts(t *testing.T, x *fixture, n int) []orgs.Organisation {
	t.Helper()
	var out []orgs.Organisation
	if err := x.DB.Where("kind = ? AND id NOT IN ?", orgs.KindTrust, []string{x.RJ7, x.RJ1, x.Outsider}).
		Order("ods_code").Limit(n).Find(&out).Error; err != nil || len(out) != n {
		t.Fatalf("%d other trusts (err %v)", len(out), err)
	}
	return out
}

// makeFor makes the competition's contracts for the buyers with the
// supplier, ending on end; it returns them by buyer.
func (x *fixture) makeFor(t *testing.T, supplier string, end time.Time, buyers ...string) map[string]contracts.Contract {
	t.Helper()
	in := contracts.AwardInput{CompetitionID: x.c.ID, SupplierOrgID: supplier, Reference: x.c.Reference, Title: x.c.Title,
		Start: domaintest.At(2027, 2, 15, 0, 0), End: end}
	for _, b := range buyers {
		in.Buyers = append(in.Buyers, contracts.BuyerValue{OrganisationID: b, ValuePence: 100_000})
	}
	made, err := x.create(t, in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]contracts.Contract{}
	for _, c := range made {
		out[c.OrganisationID] = c
	}
	return out
}

// refs are the rows' contract references, in order.
func refs(rows []contracts.RegisterRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Reference
	}
	return out
}

func register(t *testing.T, x *fixture, scope contracts.Scope, f contracts.RegisterFilter) *contracts.Register {
	t.Helper()
	r, err := x.s.Register(context.Background(), scope, f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestContractWindow: a contract is in the narrowest window it ends
// within, counting calendar months in UK time, to the moment; an ended or
// terminated one is in none.
func TestContractWindow(t *testing.T) {
	now := ukDay(2027, 3, 10).Add(9 * time.Hour) // 9am UK time (GMT)
	c := contracts.Contract{StartDate: ukDay(2027, 1, 1), Status: contracts.StatusPending}
	for _, tt := range []struct {
		end      time.Time
		extended int
		want     int
	}{
		{ukDay(2027, 3, 10), 0, 6},  // ends at midnight tonight
		{ukDay(2027, 9, 9), 0, 6},   // ends at midnight at the start of 10 September: within 6 months
		{ukDay(2027, 9, 10), 0, 12}, // ends at midnight at the end of 10 September: after 9am on it
		{ukDay(2028, 3, 9), 0, 12},
		{ukDay(2028, 3, 10), 0, 18},
		{ukDay(2028, 9, 9), 0, 18},
		{ukDay(2028, 9, 10), 0, 0},
		{ukDay(2027, 3, 9), 0, 0},   // ended at midnight last night
		{ukDay(2027, 3, 9), 12, 12}, // an extension of 12 months counts
	} {
		c.EndDate, c.ExtendedMonths = tt.end, tt.extended
		if got := c.Window(now); got != tt.want {
			t.Errorf("ending %s (+%d months): window %d, want %d", tt.end, tt.extended, got, tt.want)
		}
	}
	c.EndDate, c.ExtendedMonths, c.Status = ukDay(2027, 4, 1), 0, contracts.StatusTerminated
	if got := c.Window(now); got != 0 {
		t.Errorf("a terminated contract is in window %d", got)
	}
	if got := contracts.WindowLabel(12); got != "Ends within 12 months" {
		t.Errorf("label %q", got)
	}
}

// TestRegisterFlagsScopesAndFilters: the register flags each contract
// with its window or its end, counts them, orders them by their end, and
// shows each reader only their scope: every contract to the national
// programme and the platform, a consortium's current members', a trust's
// and a supplier's own, whatever the filter asks for.
func TestRegisterFlagsScopesAndFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		london := domaintest.OrgID(t, db, "kind = ? AND name = ?", orgs.KindConsortium, orgs.DemoLondon)
		var members []orgs.ConsortiumMember
		if err := db.Where("consortium_id = ? AND trust_id NOT IN ?", london, []string{x.RJ7, x.RJ1}).Order("trust_id").Find(&members).Error; err != nil || len(members) == 0 {
			t.Fatalf("London members: %v", err)
		}
		member := members[0].TrustID // another London trust
		var outside []string         // trusts in no consortium of the demo data
		for _, o := range otherTrusts(t, x, 20) {
			if domaintest.Count(t, db, "consortium_members", "trust_id = ?", o.ID) == 0 {
				outside = append(outside, o.ID)
			}
		}
		if len(outside) < 2 {
			t.Fatal("too few trusts outside the consortia")
		}
		later, gone := outside[0], outside[1]
		meridian, northgate := x.Sarah.OrgID, x.James.OrgID

		// Made on 15 February 2027; read on 10 March 2027.
		first := x.makeFor(t, meridian, ukDay(2027, 6, 30), x.RJ7, x.RJ1)
		rj7, rj1 := first[x.RJ7], first[x.RJ1]
		rr8 := x.makeFor(t, northgate, ukDay(2027, 12, 31), x.Outsider)[x.Outsider]
		mem := x.makeFor(t, meridian, ukDay(2028, 6, 30), member)[member]
		far := x.makeFor(t, meridian, ukDay(2031, 1, 31), later)[later]
		ended := x.makeFor(t, meridian, ukDay(2027, 3, 1), gone)[gone]
		if err := x.s.Terminate(ctx, x.Omar, rj1.ID, "Merged into a group contract.", rj1.Version); err != nil {
			t.Fatal(err)
		}
		x.Clock.Set(domaintest.At(2027, 3, 10, 9, 0))

		all := register(t, x, contracts.Scope{All: true}, contracts.RegisterFilter{})
		want := []string{ended.Reference, rj1.Reference, rj7.Reference, rr8.Reference, mem.Reference, far.Reference}
		if got := refs(all.Rows); !slices.Equal(got, want) {
			t.Fatalf("register order %v, want %v", got, want)
		}
		flags := map[string][2]any{}
		for _, r := range all.Rows {
			flags[r.Reference] = [2]any{r.State, r.Window}
			if r.Organisation.ID != r.OrganisationID || r.Supplier.ID != r.SupplierOrgID || r.Supplier.Name == "" || r.Title == "" || r.ValuePence != 100_000 {
				t.Fatalf("row without its parties or details: %+v", r)
			}
		}
		for ref, f := range map[string][2]any{
			ended.Reference: {contracts.StateExpired, 0}, rj1.Reference: {contracts.StateTerminated, 0},
			rj7.Reference: {contracts.StatePending, 6}, rr8.Reference: {contracts.StatePending, 12},
			mem.Reference: {contracts.StatePending, 18}, far.Reference: {contracts.StatePending, 0},
		} {
			if flags[ref] != f {
				t.Errorf("%s: state and window %v, want %v", ref, flags[ref], f)
			}
		}
		wantCounts := contracts.RegisterCounts{Within6: 1, Within12: 1, Within18: 1, Later: 1, Expired: 1, Terminated: 1, Total: 6}
		if all.Counts != wantCounts || all.Matching != 6 || all.Page != 1 || all.Pages != 1 {
			t.Fatalf("counts %+v, matching %d, page %d of %d", all.Counts, all.Matching, all.Page, all.Pages)
		}
		var supplierNames []string
		for _, c := range all.Suppliers {
			supplierNames = append(supplierNames, c.Name)
		}
		if len(all.Trusts) != 6 || len(all.Suppliers) != 2 || !slices.IsSorted(supplierNames) {
			t.Fatalf("choices %v / %v", all.Trusts, all.Suppliers)
		}

		for _, tt := range []struct {
			name  string
			scope contracts.Scope
			f     contracts.RegisterFilter
			want  []string
		}{
			{"within 6 months", contracts.Scope{All: true}, contracts.RegisterFilter{Window: 6}, []string{rj7.Reference}},
			{"within 12 months", contracts.Scope{All: true}, contracts.RegisterFilter{Window: 12}, []string{rj7.Reference, rr8.Reference}},
			{"within 18 months", contracts.Scope{All: true}, contracts.RegisterFilter{Window: 18}, []string{rj7.Reference, rr8.Reference, mem.Reference}},
			{"expired", contracts.Scope{All: true}, contracts.RegisterFilter{State: contracts.StateExpired}, []string{ended.Reference}},
			{"terminated", contracts.Scope{All: true}, contracts.RegisterFilter{State: contracts.StateTerminated}, []string{rj1.Reference}},
			{"active", contracts.Scope{All: true}, contracts.RegisterFilter{State: contracts.StateActive}, []string{}},
			{"by supplier", contracts.Scope{All: true}, contracts.RegisterFilter{SupplierID: northgate}, []string{rr8.Reference}},
			{"by trust", contracts.Scope{All: true}, contracts.RegisterFilter{TrustID: x.RJ7}, []string{rj7.Reference}},
			{"trust", contracts.ScopeOf(orgs.Organisation{ID: x.RJ7, Kind: orgs.KindTrust}), contracts.RegisterFilter{}, []string{rj7.Reference}},
			{"trust asking for another", contracts.ScopeOf(orgs.Organisation{ID: x.RJ7, Kind: orgs.KindTrust}), contracts.RegisterFilter{TrustID: x.Outsider}, []string{}},
			{"supplier", contracts.ScopeOf(orgs.Organisation{ID: northgate, Kind: orgs.KindSupplier}), contracts.RegisterFilter{}, []string{rr8.Reference}},
			{"supplier asking for another's", contracts.ScopeOf(orgs.Organisation{ID: northgate, Kind: orgs.KindSupplier}), contracts.RegisterFilter{SupplierID: meridian}, []string{}},
			{"consortium", contracts.ScopeOf(orgs.Organisation{ID: london, Kind: orgs.KindConsortium}), contracts.RegisterFilter{}, []string{rj1.Reference, rj7.Reference, mem.Reference}},
			{"national", contracts.ScopeOf(orgs.Organisation{ID: "n", Kind: orgs.KindNational}), contracts.RegisterFilter{}, want},
			{"platform", contracts.ScopeOf(orgs.Organisation{ID: "p", Kind: orgs.KindPlatform}), contracts.RegisterFilter{}, want},
			{"no scope", contracts.Scope{}, contracts.RegisterFilter{}, []string{}},
		} {
			r := register(t, x, tt.scope, tt.f)
			if got := refs(r.Rows); !slices.Equal(got, tt.want) || r.Matching != len(tt.want) {
				t.Errorf("%s: %v (matching %d), want %v", tt.name, got, r.Matching, tt.want)
			}
		}

		// A trust's choices are its own; its counts are of its own contracts.
		own := register(t, x, contracts.Scope{TrustID: x.RJ7}, contracts.RegisterFilter{Window: 18})
		if len(own.Trusts) != 1 || own.Trusts[0].ID != x.RJ7 || len(own.Suppliers) != 1 || own.Suppliers[0].ID != meridian ||
			own.Counts != (contracts.RegisterCounts{Within6: 1, Total: 1}) {
			t.Fatalf("trust's choices %v / %v, counts %+v", own.Trusts, own.Suppliers, own.Counts)
		}

		// A trust that leaves the consortium leaves its register.
		os := &orgs.Service{DB: db, Audit: x.Log, Clock: x.Clock}
		var m orgs.ConsortiumMember
		if err := db.Where("consortium_id = ? AND trust_id = ?", london, x.RJ1).First(&m).Error; err != nil {
			t.Fatal(err)
		}
		if err := os.EndMember(ctx, x.Tom, london, m.ID, domaintest.At(2027, 3, 1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		if got := refs(register(t, x, contracts.Scope{ConsortiumID: london}, contracts.RegisterFilter{}).Rows); !slices.Equal(got, []string{rj7.Reference, mem.Reference}) {
			t.Fatalf("consortium after RJ1 left: %v", got)
		}

		_, err := x.s.Register(ctx, contracts.Scope{All: true}, contracts.RegisterFilter{Window: 7, State: "lost"})
		domaintest.WantErrors(t, err, map[string]string{
			contracts.FieldWindow: "Choose when the contracts end from the list",
			contracts.FieldState:  "Choose a status from the list",
		})
	})
}

// TestRegisterPagesInFewQueries: the register pages 50 at a time, keeps
// the page asked for within the pages there are, and reads any number of
// contracts in the same few queries.
func TestRegisterPagesInFewQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		var buyers []string
		for _, o := range otherTrusts(t, x, 54) {
			buyers = append(buyers, o.ID)
		}
		x.makeFor(t, x.Sarah.OrgID, ukDay(2030, 3, 31), append(buyers, x.RJ7)...)

		queries := 0
		// Subqueries are built in dry runs, which send nothing.
		count := func(d *gorm.DB) {
			if !d.DryRun {
				queries++
			}
		}
		if err := db.Callback().Query().After("gorm:query").Register("test:count_queries", count); err != nil {
			t.Fatal(err)
		}
		if err := db.Callback().Row().After("gorm:row").Register("test:count_rows", count); err != nil {
			t.Fatal(err)
		}
		p1 := register(t, x, contracts.Scope{All: true}, contracts.RegisterFilter{})
		many := queries
		queries = 0
		register(t, x, contracts.Scope{TrustID: x.RJ7}, contracts.RegisterFilter{})
		if queries != many || many > 6 {
			t.Fatalf("%d queries for 55 contracts, %d for one: the register must not read contract by contract", many, queries)
		}

		if len(p1.Rows) != contracts.RegisterPageSize || p1.Matching != 55 || p1.Page != 1 || p1.Pages != 2 {
			t.Fatalf("page 1: %d rows, matching %d, page %d of %d", len(p1.Rows), p1.Matching, p1.Page, p1.Pages)
		}
		p2 := register(t, x, contracts.Scope{All: true}, contracts.RegisterFilter{Page: 2})
		beyond := register(t, x, contracts.Scope{All: true}, contracts.RegisterFilter{Page: 9})
		before := register(t, x, contracts.Scope{All: true}, contracts.RegisterFilter{Page: -1})
		if len(p2.Rows) != 5 || !slices.Equal(refs(beyond.Rows), refs(p2.Rows)) || beyond.Page != 2 || before.Page != 1 ||
			!slices.Equal(refs(before.Rows), refs(p1.Rows)) {
			t.Fatalf("page 2: %d rows; page 9 shows page %d; page -1 shows page %d", len(p2.Rows), beyond.Page, before.Page)
		}
		every := append(refs(p1.Rows), refs(p2.Rows)...)
		if !slices.IsSorted(every) || len(slices.Compact(slices.Clone(every))) != 55 {
			t.Fatalf("pages overlap or are out of order: %v", every)
		}
	})
}

// TestRegisterCSV: the export holds every matching contract on every
// page, in the register's order, with formula-like names escaped.
func TestRegisterCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		if err := db.Model(&orgs.Organisation{}).Where("id = ?", x.James.OrgID).Update("name", "=HYPERLINK(\"http://x\")").Error; err != nil {
			t.Fatal(err)
		}
		x.makeFor(t, x.Sarah.OrgID, ukDay(2027, 6, 30), x.RJ7, x.RJ1)
		x.makeFor(t, x.James.OrgID, ukDay(2027, 12, 31), x.Outsider)
		var buf bytes.Buffer
		if err := x.s.RegisterCSV(ctx, contracts.Scope{All: true}, contracts.RegisterFilter{Window: 12}, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), "\uFEFF") || !strings.Contains(buf.String(), "\r\n") {
			t.Fatal("no byte order mark or CRLF line ends")
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 4 || !slices.Equal(recs[0], contracts.RegisterColumns) {
			t.Fatalf("CSV %v", recs)
		}
		if r := recs[1]; r[0] != "SWL-EPR-001-RJ1" || r[3] != "RJ1" || r[5] != "1000.00" || r[6] != "2027-02-15" || r[7] != "2027-06-30" ||
			r[8] != "Pending" || r[9] != "6" {
			t.Fatalf("first row %v", r)
		}
		if r := recs[3]; r[4] != "'=HYPERLINK(\"http://x\")" || r[9] != "12" {
			t.Fatalf("last row %v: the formula is not escaped", r)
		}
		err = x.s.RegisterCSV(ctx, contracts.Scope{All: true}, contracts.RegisterFilter{Window: 3}, &buf)
		domaintest.WantErrors(t, err, map[string]string{contracts.FieldWindow: "Choose when the contracts end from the list"})
	})
}
