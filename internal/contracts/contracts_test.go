package contracts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/uktime"
)

// fixture is a competition (set up, not yet published: contracts only need
// its row) led by St George's (RJ7) with Guy's and St Thomas' (RJ1) also
// buying, Meridian as the winner, and the contracts service.
type fixture struct {
	*domaintest.Live
	s *contracts.Service
	c *competition.Competition
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	x := domaintest.LiveFramework(t, db)
	c := x.Ready(t, domaintest.CompetitionInput("SWL-EPR-001"))
	return &fixture{Live: x, s: &contracts.Service{DB: x.DB, Audit: x.Log, Clock: x.Clock}, c: c}
}

// ukDay is midnight at the start of a UK date, in UTC.
func ukDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, uktime.Location).UTC()
}

// award is the confirmed award: RJ7 at £1,200,000.00, RJ1 (its label left
// for the service to read) at £350,000.50, from 1 June 2027 to 31 May 2032.
func (x *fixture) award() contracts.AwardInput {
	return contracts.AwardInput{
		CompetitionID: x.c.ID, SupplierOrgID: x.Sarah.OrgID, Reference: x.c.Reference, Title: x.c.Title,
		Buyers: []contracts.BuyerValue{
			{OrganisationID: x.RJ7, Label: "RJ7", ValuePence: 120_000_000},
			{OrganisationID: x.RJ1, ValuePence: 35_000_050},
		},
		// Times of day are ignored: the UK date is kept.
		Start: domaintest.At(2027, 6, 1, 0, 0), End: domaintest.At(2032, 5, 31, 14, 0),
	}
}

// create makes the contracts in a transaction of the test's own, as the
// award package does in its confirmation.
func (x *fixture) create(t *testing.T, in contracts.AwardInput) ([]contracts.Contract, error) {
	t.Helper()
	var made []contracts.Contract
	err := x.DB.Tx(context.Background(), func(tx *gorm.DB) error {
		var err error
		made, err = x.s.CreateFromAward(context.Background(), tx, x.Aisha, in)
		return err
	})
	return made, err
}

// made is the award's contracts, RJ7's first.
func (x *fixture) made(t *testing.T) (rj7, rj1 *contracts.Contract) {
	t.Helper()
	made, err := x.create(t, x.award())
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 {
		t.Fatalf("%d contracts", len(made))
	}
	return &made[0], &made[1]
}

// reload reads a contract afresh.
func (x *fixture) reload(t *testing.T, id string) *contracts.Contract {
	t.Helper()
	c, err := x.s.Contract(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// details are a contract's details as an edit form would send them back.
func details(c *contracts.Contract) contracts.DetailsInput {
	ref := ""
	if c.NationalContractRef != nil {
		ref = *c.NationalContractRef
	}
	return contracts.DetailsInput{
		ValuePence: c.ValuePence, Start: c.StartDate, End: c.EndDate, ExtensionOptions: c.ExtensionOptions,
		MaxExtensionMonths: c.MaxExtensionMonths, SignedAt: c.SignedAt, NationalContractRef: ref,
		DeploymentsNote: c.DeploymentsNote, Version: c.Version,
	}
}

func audits(t *testing.T, db *store.DB, action, outcome string) int64 {
	t.Helper()
	return domaintest.Count(t, db, "audit_entries", "action = ? AND outcome = ?", action, outcome)
}

func TestCreateFromAwardOnePerBuyingTrust(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, rj1 := x.made(t)
		for _, tt := range []struct {
			c     *contracts.Contract
			org   string
			ref   string
			value int64
		}{
			{rj7, x.RJ7, "SWL-EPR-001-RJ7", 120_000_000},
			{rj1, x.RJ1, "SWL-EPR-001-RJ1", 35_000_050},
		} {
			c := x.reload(t, tt.c.ID)
			if c.OrganisationID != tt.org || c.SupplierOrgID != x.Sarah.OrgID || c.CompetitionID != x.c.ID || c.Reference != tt.ref ||
				c.ValuePence != tt.value || c.Title != x.c.Title || c.Status != contracts.StatusPending || c.Version != 1 {
				t.Fatalf("contract %+v", c)
			}
			// 1 June 2027 is in summer time: midnight UK time is 23:00 UTC the day before.
			if !c.StartDate.Equal(ukDay(2027, 6, 1)) || !c.EndDate.Equal(ukDay(2032, 5, 31)) || c.StartDate.Location() != time.UTC {
				t.Fatalf("term %s to %s", c.StartDate, c.EndDate)
			}
			if c.Organisation.ID != tt.org || c.Supplier.Name == "" || c.Signed() || c.NationalContractRef != nil {
				t.Fatalf("parties %+v / %+v", c.Organisation, c.Supplier)
			}
			if st := c.State(x.Clock.Now()); st != contracts.StatePending {
				t.Fatalf("state %s", st)
			}
		}
		if n := audits(t, x.DB, "contract.create", audit.Success); n != 2 {
			t.Fatalf("%d creation entries", n)
		}
		for _, tt := range []struct {
			org  string
			want int
		}{{x.RJ7, 1}, {x.RJ1, 1}, {x.Sarah.OrgID, 2}, {x.James.OrgID, 0}, {x.Outsider, 0}} {
			list, err := x.s.ContractsOf(ctx, tt.org)
			if err != nil || len(list) != tt.want {
				t.Fatalf("contracts of %s: %d (err %v), want %d", tt.org, len(list), err, tt.want)
			}
		}
		list, err := x.s.ForCompetition(ctx, x.c.ID)
		if err != nil || len(list) != 2 || list[0].Reference != "SWL-EPR-001-RJ1" || list[1].Reference != "SWL-EPR-001-RJ7" {
			t.Fatalf("for competition: %+v (err %v)", list, err)
		}
		// The award cannot make its contracts twice.
		if _, err := x.create(t, x.award()); err == nil || !strings.Contains(err.Error(), "already has a contract") {
			t.Fatalf("second creation: %v", err)
		}
		if n := domaintest.Count(t, x.DB, "contracts", ""); n != 2 {
			t.Fatalf("%d contracts", n)
		}
		if _, err := x.s.Contract(ctx, "no-such-contract"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown contract: %v", err)
		}
	})
}

// TestLifecycle: pending until signed and started, active until midnight
// at the end of its last day (UK time), then expired; an unsigned contract
// never becomes active but still expires.
func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, rj1 := x.made(t)
		if err := x.s.Sign(ctx, x.Aisha, rj7.ID, x.Clock.Now(), rj7.Version); err != nil {
			t.Fatal(err)
		}
		c := x.reload(t, rj7.ID)
		if !c.Signed() || !c.SignedAt.Equal(ukDay(2027, 2, 15)) || c.Version != 2 {
			t.Fatalf("signed %v version %d", c.SignedAt, c.Version)
		}
		if n := audits(t, x.DB, "contract.sign", audit.Success); n != 1 {
			t.Fatalf("%d signing entries", n)
		}
		for _, tt := range []struct {
			at       time.Time
			rj7, rj1 string
		}{
			{domaintest.At(2027, 5, 31, 22, 59), contracts.StatePending, contracts.StatePending},
			// Midnight at the start of 1 June 2027, BST.
			{domaintest.At(2027, 5, 31, 23, 0), contracts.StateActive, contracts.StatePending},
			{domaintest.At(2030, 1, 1, 12, 0), contracts.StateActive, contracts.StatePending},
			{domaintest.At(2032, 5, 31, 22, 59), contracts.StateActive, contracts.StatePending},
			// Midnight at the end of 31 May 2032, BST.
			{domaintest.At(2032, 5, 31, 23, 0), contracts.StateExpired, contracts.StateExpired},
		} {
			x.Clock.Set(tt.at)
			for _, k := range []struct{ id, want string }{{rj7.ID, tt.rj7}, {rj1.ID, tt.rj1}} {
				if got := x.reload(t, k.id).State(x.Clock.Now()); got != k.want {
					t.Errorf("at %s: %s, want %s", tt.at.Format(time.RFC3339), got, k.want)
				}
			}
		}
		// An expired contract is kept as it ended.
		c = x.reload(t, rj7.ID)
		domaintest.WantErrors(t, x.s.Terminate(ctx, x.Aisha, c.ID, "No longer needed", c.Version), map[string]string{
			contracts.FieldContract: "The contract ended on 31 May 2032, so it cannot be terminated"})
		domaintest.WantErrors(t, x.s.Update(ctx, x.Aisha, c.ID, details(c)), map[string]string{
			contracts.FieldContract: "The contract ended on 31 May 2032, so its details can no longer be changed"})
		domaintest.WantErrors(t, x.s.Sign(ctx, x.Omar, rj1.ID, x.Clock.Now(), rj1.Version), map[string]string{
			contracts.FieldContract: "The contract ended on 31 May 2032, so it can no longer be signed"})
	})
}

func TestTerminate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, rj1 := x.made(t)
		domaintest.WantErrors(t, x.s.Terminate(ctx, x.Aisha, rj7.ID, "  ", rj7.Version), map[string]string{
			contracts.FieldReason: "Say why the contract is being terminated"})
		if err := x.s.Terminate(ctx, x.Aisha, rj7.ID, strings.Repeat("x", contracts.MaxText+1), rj7.Version); err == nil {
			t.Fatal("a reason of 5,001 characters was accepted")
		}
		if c := x.reload(t, rj7.ID); c.Status != contracts.StatusPending || c.Version != 1 {
			t.Fatalf("refused termination saved: %+v", c)
		}
		// A pending contract may be terminated.
		x.Clock.Set(domaintest.At(2027, 3, 2, 10, 0))
		if err := x.s.Terminate(ctx, x.Aisha, rj7.ID, "The trust merged with its neighbour", rj7.Version); err != nil {
			t.Fatal(err)
		}
		c := x.reload(t, rj7.ID)
		if c.State(domaintest.At(2028, 1, 1, 0, 0)) != contracts.StateTerminated || c.TerminationReason != "The trust merged with its neighbour" ||
			c.TerminatedAt == nil || !c.TerminatedAt.Equal(x.Clock.Now()) {
			t.Fatalf("terminated contract %+v", c)
		}
		domaintest.WantErrors(t, x.s.Terminate(ctx, x.Aisha, c.ID, "Again", c.Version), map[string]string{
			contracts.FieldContract: "The contract was terminated on 2 March 2027, so it cannot be terminated"})
		domaintest.WantErrors(t, x.s.ExerciseExtension(ctx, x.Aisha, c.ID, 1, c.Version), map[string]string{
			contracts.FieldContract: "The contract was terminated on 2 March 2027, so it can no longer be extended"})
		// An active contract may be terminated too.
		if err := x.s.Sign(ctx, x.Omar, rj1.ID, x.Clock.Now(), rj1.Version); err != nil {
			t.Fatal(err)
		}
		x.Clock.Set(domaintest.At(2028, 2, 1, 9, 0))
		c = x.reload(t, rj1.ID)
		if st := c.State(x.Clock.Now()); st != contracts.StateActive {
			t.Fatalf("state %s", st)
		}
		if err := x.s.Terminate(ctx, x.Omar, c.ID, "The supplier failed to deliver", c.Version); err != nil {
			t.Fatal(err)
		}
		if n := audits(t, x.DB, "contract.terminate", audit.Success); n != 2 {
			t.Fatalf("%d termination entries", n)
		}
	})
}

// TestExtension: extensions move the expiry on by calendar months, up to
// the total the options allow.
func TestExtension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, _ := x.made(t)
		domaintest.WantErrors(t, x.s.ExerciseExtension(ctx, x.Aisha, rj7.ID, 12, rj7.Version), map[string]string{
			contracts.FieldExtensionMonths: "The contract has no extension left to exercise; change its extension options first if it allows more"})
		in := details(rj7)
		in.ExtensionOptions, in.MaxExtensionMonths = "Two optional extensions of 12 months each", 24
		in.SignedAt = &domaintest.LiveAt
		if err := x.s.Update(ctx, x.Aisha, rj7.ID, in); err != nil {
			t.Fatal(err)
		}
		x.Clock.Set(domaintest.At(2032, 3, 1, 9, 0))
		c := x.reload(t, rj7.ID)
		domaintest.WantErrors(t, x.s.ExerciseExtension(ctx, x.Aisha, c.ID, 0, c.Version), map[string]string{
			contracts.FieldExtensionMonths: "Enter the number of months of extension to exercise, 1 or more"})
		domaintest.WantErrors(t, x.s.ExerciseExtension(ctx, x.Aisha, c.ID, 25, c.Version), map[string]string{
			contracts.FieldExtensionMonths: "The contract allows 24 more months of extension; enter 24 or fewer"})
		if err := x.s.ExerciseExtension(ctx, x.Aisha, c.ID, 12, c.Version); err != nil {
			t.Fatal(err)
		}
		c = x.reload(t, rj7.ID)
		if c.ExtendedMonths != 12 || c.ExtensionLeft() != 12 || c.LastDay().Format("2006-01-02") != ukDay(2033, 5, 31).Format("2006-01-02") {
			t.Fatalf("extended %d months, last day %s", c.ExtendedMonths, c.LastDay())
		}
		// The end date is unchanged; the expiry moves.
		if !c.EndDate.Equal(ukDay(2032, 5, 31)) || !c.Expires().Equal(ukDay(2033, 6, 1)) {
			t.Fatalf("end %s expires %s", c.EndDate, c.Expires())
		}
		for _, tt := range []struct {
			at   time.Time
			want string
		}{
			{domaintest.At(2032, 6, 1, 12, 0), contracts.StateActive},
			{domaintest.At(2033, 5, 31, 22, 59), contracts.StateActive},
			{domaintest.At(2033, 5, 31, 23, 0), contracts.StateExpired},
		} {
			if got := c.State(tt.at); got != tt.want {
				t.Errorf("at %s: %s, want %s", tt.at.Format(time.RFC3339), got, tt.want)
			}
		}
		domaintest.WantErrors(t, x.s.ExerciseExtension(ctx, x.Aisha, c.ID, 13, c.Version), map[string]string{
			contracts.FieldExtensionMonths: "The contract allows 12 more months of extension; enter 12 or fewer"})
		// The options cannot shrink below what has been exercised.
		in = details(c)
		in.MaxExtensionMonths = 6
		domaintest.WantErrors(t, x.s.Update(ctx, x.Aisha, c.ID, in), map[string]string{
			contracts.FieldMaxExtensionMonths: "12 months of extension have already been exercised; enter 12 or more"})
		if err := x.s.ExerciseExtension(ctx, x.Aisha, c.ID, 12, c.Version-1); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale extension: %v", err)
		}
		if n := audits(t, x.DB, "contract.extend", audit.Success); n != 1 {
			t.Fatalf("%d extension entries", n)
		}
	})
}

// TestExpires: a month of extension is a calendar month from the end, to
// the end of a shorter month rather than into the next.
func TestExpires(t *testing.T) {
	for _, tt := range []struct {
		end    time.Time
		months int
		last   string
	}{
		{ukDay(2032, 5, 31), 0, "2032-05-31"},
		{ukDay(2032, 5, 31), 12, "2033-05-31"},
		{ukDay(2027, 8, 31), 6, "2028-02-29"}, // from 1 September, six months: to the end of February (a leap year)
		{ukDay(2027, 1, 30), 1, "2027-02-28"}, // from 31 January, one month: to the end of February
		{ukDay(2027, 3, 27), 1, "2027-04-27"}, // across the clocks going forward
		{ukDay(2027, 10, 31), 120, "2037-10-31"},
	} {
		c := contracts.Contract{EndDate: tt.end, ExtendedMonths: tt.months}
		if got := c.LastDay().In(uktime.Location).Format("2006-01-02"); got != tt.last {
			t.Errorf("%s + %d months: last day %s, want %s", tt.end.In(uktime.Location).Format("2006-01-02"), tt.months, got, tt.last)
		}
		if y, m, d := c.Expires().In(uktime.Location).Date(); c.Expires().In(uktime.Location).Hour() != 0 || !c.Expires().Equal(ukDay(y, m, d)) {
			t.Errorf("%s + %d months expires at %s, not a UK midnight", tt.end, tt.months, c.Expires())
		}
	}
}

// TestBadInput: every refusal says what to do and saves nothing.
func TestBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()

		in := x.award()
		in.Start, in.End = domaintest.At(2032, 6, 1, 0, 0), domaintest.At(2027, 6, 1, 0, 0)
		in.Buyers[1].ValuePence = -1
		_, err := x.create(t, in)
		domaintest.WantErrors(t, err, map[string]string{
			contracts.FieldEnd:   "The end date must be on or after the start date, 1 June 2032",
			contracts.FieldValue: "The value of every buying trust's contract must be £0 or more; check the winning bid's price schedule",
		})
		in = x.award()
		in.Start, in.End = time.Time{}, domaintest.At(2027, 2, 14, 12, 0)
		_, err = x.create(t, in)
		domaintest.WantErrors(t, err, map[string]string{
			contracts.FieldStart: "Enter the date the contract starts",
			contracts.FieldEnd:   "The end date has passed; enter today (15 February 2027) or a later date",
		})
		if n := domaintest.Count(t, x.DB, "contracts", ""); n != 0 {
			t.Fatalf("%d contracts made by refused awards", n)
		}
		if n := domaintest.Count(t, x.DB, "audit_entries", "object_type = ?", "contract"); n != 0 {
			t.Fatalf("%d audit entries for refused awards", n)
		}

		rj7, _ := x.made(t)
		entries := domaintest.Count(t, x.DB, "audit_entries", "")
		future := domaintest.At(2027, 2, 16, 0, 30) // 16 February, UK time: tomorrow
		beforeMade := domaintest.At(2027, 2, 14, 23, 59)
		for _, tt := range []struct {
			name string
			edit func(*contracts.DetailsInput)
			want map[string]string
		}{
			{"end before start", func(in *contracts.DetailsInput) { in.End = domaintest.At(2027, 5, 31, 12, 0) },
				map[string]string{contracts.FieldEnd: "The end date must be on or after the start date, 1 June 2027"}},
			{"negative value, no dates", func(in *contracts.DetailsInput) { in.ValuePence, in.Start, in.End = -100, time.Time{}, time.Time{} },
				map[string]string{
					contracts.FieldValue: "Enter the contract value as an amount of £0 or more",
					contracts.FieldStart: "Enter the date the contract starts",
					contracts.FieldEnd:   "Enter the date the contract ends",
				}},
			{"extension too long", func(in *contracts.DetailsInput) { in.MaxExtensionMonths = 121 },
				map[string]string{contracts.FieldMaxExtensionMonths: "Enter the total extension the contract allows as a number of months from 0 to 120"}},
			{"extension negative", func(in *contracts.DetailsInput) { in.MaxExtensionMonths = -1 },
				map[string]string{contracts.FieldMaxExtensionMonths: "Enter the total extension the contract allows as a number of months from 0 to 120"}},
			{"signed tomorrow", func(in *contracts.DetailsInput) { in.SignedAt = &future },
				map[string]string{contracts.FieldSignedAt: "The signature date cannot be in the future; enter the date it was signed, today (15 February 2027) or earlier"}},
			{"signed before the award", func(in *contracts.DetailsInput) { in.SignedAt = &beforeMade },
				map[string]string{contracts.FieldSignedAt: "The signature date cannot be before 15 February 2027, when the award was confirmed and the contract made"}},
			{"ended already", func(in *contracts.DetailsInput) {
				in.Start, in.End = domaintest.At(2026, 1, 1, 0, 0), domaintest.At(2027, 2, 1, 0, 0)
			}, map[string]string{contracts.FieldEnd: "The end date has passed; enter today (15 February 2027) or a later date"}},
			{"long texts", func(in *contracts.DetailsInput) {
				in.ExtensionOptions, in.DeploymentsNote = strings.Repeat("a", 5001), strings.Repeat("b", 5001)
				in.NationalContractRef = strings.Repeat("c", 101)
			}, map[string]string{
				contracts.FieldExtensionOptions: "The extension options must be 5,000 characters or fewer",
				contracts.FieldDeploymentsNote:  "The deployments it replaces must be described in 5,000 characters or fewer",
				contracts.FieldNationalContract: "The national contract reference must be 100 characters or fewer",
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				in := details(rj7)
				tt.edit(&in)
				domaintest.WantErrors(t, x.s.Update(ctx, x.Aisha, rj7.ID, in), tt.want)
			})
		}
		domaintest.WantErrors(t, x.s.Sign(ctx, x.Aisha, rj7.ID, future, rj7.Version), map[string]string{
			contracts.FieldSignedAt: "The signature date cannot be in the future; enter the date it was signed, today (15 February 2027) or earlier"})
		domaintest.WantErrors(t, x.s.Sign(ctx, x.Aisha, rj7.ID, time.Time{}, rj7.Version), map[string]string{
			contracts.FieldSignedAt: "Enter the date the contract was signed"})
		if c := x.reload(t, rj7.ID); c.Version != rj7.Version || c.Signed() || c.MaxExtensionMonths != 0 || c.ValuePence != rj7.ValuePence {
			t.Fatalf("a refused change was saved: %+v", c)
		}
		if n := domaintest.Count(t, x.DB, "audit_entries", ""); n != entries {
			t.Fatalf("%d audit entries for refused changes", n-entries)
		}

		// A good edit records what it changed; a signed contract stays
		// signed.
		edit := details(rj7)
		edit.ValuePence, edit.NationalContractRef, edit.DeploymentsNote = 125_000_000, "NPfIT-LSP-London", "Cerner Millennium at St George's"
		edit.SignedAt = &domaintest.LiveAt
		if err := x.s.Update(ctx, x.Aisha, rj7.ID, edit); err != nil {
			t.Fatal(err)
		}
		c := x.reload(t, rj7.ID)
		if c.ValuePence != 125_000_000 || c.NationalContractRef == nil || *c.NationalContractRef != "NPfIT-LSP-London" || !c.Signed() || c.Version != 2 {
			t.Fatalf("updated %+v", c)
		}
		edit = details(c)
		edit.SignedAt = nil
		domaintest.WantErrors(t, x.s.Update(ctx, x.Aisha, c.ID, edit), map[string]string{
			contracts.FieldSignedAt: "The contract was signed on 15 February 2027; enter the date it was signed"})
		domaintest.WantErrors(t, x.s.Sign(ctx, x.Aisha, c.ID, x.Clock.Now(), c.Version), map[string]string{
			contracts.FieldSignedAt: "The contract was signed on 15 February 2027; to correct the date, change the contract's details"})
		edit = details(c)
		edit.NationalContractRef = ""
		if err := x.s.Update(ctx, x.Aisha, c.ID, edit); err != nil {
			t.Fatal(err)
		}
		if c := x.reload(t, rj7.ID); c.NationalContractRef != nil {
			t.Fatalf("national contract %q kept", *c.NationalContractRef)
		}
		var detail string
		if err := x.DB.Table("audit_entries").Select("detail").Where("action = ?", "contract.update").Order("seq").Limit(1).Scan(&detail).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, `"value_pence":{"new":125000000,"old":120000000}`) || strings.Contains(detail, "start_date") {
			t.Fatalf("update detail %s", detail)
		}
	})
}

// TestOnlyTheBuyingTrustsLeads: another trust's lead, the supplier and a
// colleague without the trust lead role are refused, and each refusal is
// audited.
func TestOnlyTheBuyingTrustsLeads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, rj1 := x.made(t)
		for _, who := range []audit.Actor{x.Omar, x.Yara, x.Sarah, x.Ben} {
			for name, err := range map[string]error{
				"contract.update":    x.s.Update(ctx, who, rj7.ID, details(rj7)),
				"contract.sign":      x.s.Sign(ctx, who, rj7.ID, x.Clock.Now(), rj7.Version),
				"contract.extend":    x.s.ExerciseExtension(ctx, who, rj7.ID, 1, rj7.Version),
				"contract.terminate": x.s.Terminate(ctx, who, rj7.ID, "Not wanted", rj7.Version),
			} {
				if !errors.Is(err, contracts.ErrForbidden) {
					t.Fatalf("%s by %s: %v", name, who.Label, err)
				}
			}
		}
		for _, action := range []string{"contract.update", "contract.sign", "contract.extend", "contract.terminate"} {
			if n := audits(t, x.DB, action, audit.Denied); n != 4 {
				t.Fatalf("%d refusals of %s audited, want 4", n, action)
			}
		}
		var entry audit.Entry
		if err := x.DB.Where("action = ? AND outcome = ? AND actor_user_id = ?", "contract.sign", audit.Denied, x.Omar.UserID).First(&entry).Error; err != nil {
			t.Fatal(err)
		}
		if entry.ObjectType != "contract" || entry.ObjectID != rj7.ID {
			t.Fatalf("refusal entry %+v", entry)
		}
		if c := x.reload(t, rj7.ID); c.Version != 1 || c.Signed() || c.Status != contracts.StatusPending {
			t.Fatalf("a refused change was saved: %+v", c)
		}
		// Omar leads the other buying trust: its contract is his to sign.
		if err := x.s.Sign(ctx, x.Omar, rj1.ID, x.Clock.Now(), rj1.Version); err != nil {
			t.Fatal(err)
		}
		if n, broken, err := audit.Verify(ctx, x.DB); err != nil || broken != nil || n == 0 {
			t.Fatalf("audit chain: %d entries, %v, %v", n, broken, err)
		}
	})
}

// TestStaleVersion: a change made from an out-of-date page is refused
// rather than overwriting the change made since.
func TestStaleVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, _ := x.made(t)
		first, second := details(rj7), details(rj7)
		first.ValuePence, second.ValuePence = 110_000_000, 130_000_000
		if err := x.s.Update(ctx, x.Aisha, rj7.ID, first); err != nil {
			t.Fatal(err)
		}
		if err := x.s.Update(ctx, x.Aisha, rj7.ID, second); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		if err := x.s.Sign(ctx, x.Aisha, rj7.ID, x.Clock.Now(), rj7.Version); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale signature: %v", err)
		}
		if err := x.s.Terminate(ctx, x.Aisha, rj7.ID, "Not wanted", rj7.Version); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale termination: %v", err)
		}
		c := x.reload(t, rj7.ID)
		if c.ValuePence != 110_000_000 || c.Version != 2 || c.Signed() || c.Status != contracts.StatusPending {
			t.Fatalf("after stale changes: %+v", c)
		}
		if n := audits(t, x.DB, "contract.update", audit.Success); n != 1 {
			t.Fatalf("%d update entries", n)
		}
	})
}

func TestDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		ctx := context.Background()
		rj7, _ := x.made(t)
		put := func(who audit.Actor, name string) *documents.Document {
			d, err := x.Docs.Put(ctx, who, documents.Upload{OrganisationID: who.OrgID, OwnerType: "library", Name: name,
				Body: strings.NewReader("%PDF-1.4\n" + name + "\n%%EOF\n")})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		signed, theirs := put(x.Aisha, "signed-contract.pdf"), put(x.Omar, "guys-contract.pdf")
		if err := x.s.AttachDocument(ctx, x.Aisha, rj7.ID, signed.ID); err != nil {
			t.Fatal(err)
		}
		domaintest.WantErrors(t, x.s.AttachDocument(ctx, x.Aisha, rj7.ID, signed.ID), map[string]string{
			contracts.FieldDocument: "signed-contract.pdf is already one of the contract's documents"})
		for _, id := range []string{theirs.ID, "no-such-document"} {
			domaintest.WantErrors(t, x.s.AttachDocument(ctx, x.Aisha, rj7.ID, id), map[string]string{
				contracts.FieldDocument: "Choose one of your trust's documents; upload it to your documents first if it is not there"})
		}
		if err := x.s.AttachDocument(ctx, x.Omar, rj7.ID, theirs.ID); !errors.Is(err, contracts.ErrForbidden) {
			t.Fatalf("another trust's lead attaching: %v", err)
		}
		if err := x.s.RemoveDocument(ctx, x.Omar, rj7.ID, signed.ID); !errors.Is(err, contracts.ErrForbidden) {
			t.Fatalf("another trust's lead removing: %v", err)
		}
		c := x.reload(t, rj7.ID)
		if len(c.Documents) != 1 || c.Documents[0].DocumentID != signed.ID || c.Documents[0].Name != "signed-contract.pdf" ||
			c.Documents[0].AddedBy != x.Aisha.UserID || c.Version != 1 {
			t.Fatalf("documents %+v (version %d)", c.Documents, c.Version)
		}
		if err := x.s.RemoveDocument(ctx, x.Aisha, rj7.ID, signed.ID); err != nil {
			t.Fatal(err)
		}
		domaintest.WantErrors(t, x.s.RemoveDocument(ctx, x.Aisha, rj7.ID, signed.ID), map[string]string{
			contracts.FieldDocument: "That document is not one of the contract's documents; choose one from its list"})
		if c := x.reload(t, rj7.ID); len(c.Documents) != 0 {
			t.Fatalf("documents left %+v", c.Documents)
		}
		for action, want := range map[string]int64{"contract.document.add": 1, "contract.document.remove": 1} {
			if n := audits(t, x.DB, action, audit.Success); n != want {
				t.Fatalf("%d %s entries", n, action)
			}
			if n := audits(t, x.DB, action, audit.Denied); n != 1 {
				t.Fatalf("%d refused %s entries", n, action)
			}
		}
	})
}
