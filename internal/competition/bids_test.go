package competition_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/validate"
)

// TestBidContentRules: the gaps of an empty and a complete bid, answers
// checked by the framework's rules, prices per buying trust and line, and
// the total price per trust in pence.
func TestBidContentRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		c := x.published(t, input("SWL-EPR-2027-01"))
		reqs, _ := x.s.Requirements(ctx, c.ID)
		scheds, _ := x.s.PriceSchedules(ctx, c.ID)
		lic7, lic1 := scheds[0].Items[0], scheds[1].Items[0]

		var empty competition.BidContent
		gaps := empty.Gaps(reqs, scheds)
		var msgs []string
		for _, g := range gaps {
			msgs = append(msgs, g.Message)
		}
		if len(gaps) != 9 || gaps[0].Field != reqs[0].ID || gaps[0].Section != "Medicines" ||
			msgs[0] != "Describe how you meet EPR-MED-001" || msgs[2] != "Say whether you meet EPR-SEC-001" ||
			gaps[3].Field != competition.FieldPrice(lic7.ID) || gaps[3].Section != "Price schedule: St George's University Hospitals NHS Foundation Trust" ||
			msgs[3] != "Enter the price per licence of Licences for St George's University Hospitals NHS Foundation Trust" ||
			msgs[7] != "Enter the price per licence of Licences for Guy's and St Thomas' NHS Foundation Trust" ||
			gaps[8].Field != framework.FieldDeclarations || msgs[8] != "Agree to every declaration" {
			t.Fatalf("gaps of an empty bid:\n%s", strings.Join(msgs, "\n"))
		}

		b := x.completeBid(t, c, x.sarah, 100)
		if g := b.Gaps(reqs, scheds); len(g) != 0 {
			t.Fatalf("a complete bid has gaps %+v", g)
		}
		totals, err := competition.TotalPrices(b, scheds)
		if err != nil || totals[x.rj7] != 100*(6500+1+5+5) || totals[x.rj1] != 100*14000 {
			t.Fatalf("totals %v (err %v)", totals, err)
		}
		b.SetPrice(x.rj7, scheds[0].Items[1].ID, 125_000_00) // implementation, one-off
		if total, _ := competition.TotalPrice(b, scheds[0]); total != 100*(6500+5+5)+125_000_00 {
			t.Fatalf("total %d", total)
		}
		if g := b.Gaps(reqs, scheds); len(g) != 0 {
			t.Fatalf("gaps %+v", g)
		}

		// Encoding keeps everything.
		raw, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := competition.DecodeBid(c.ID, raw)
		if err != nil || len(back.Answers) != 3 || len(back.Declarations) != 3 {
			t.Fatalf("decoded %+v (err %v)", back, err)
		}
		if p, ok := back.Price(x.rj1, lic1.ID); !ok || p != 100 {
			t.Fatalf("decoded price %d %v", p, ok)
		}
		if _, err := competition.DecodeBid(c.ID, []byte("{not json")); err == nil {
			t.Fatal("bad content decoded")
		}

		// An unpriced line has no total; a negative price or one too big to
		// add up is a problem even in a draft, as are answers and prices
		// for things the competition does not have.
		delete(b.Prices[x.rj1], lic1.ID)
		if _, err := competition.TotalPrice(b, scheds[1]); !errors.Is(err, competition.ErrUnpriced) {
			t.Fatalf("total of an unpriced schedule: %v", err)
		}
		if g := b.FormatProblems(reqs, scheds); len(g) != 0 {
			t.Fatalf("an incomplete draft has format problems %+v", g)
		}
		b.SetPrice(x.rj1, lic1.ID, -1)
		b.SetPrice(x.rj7, lic7.ID, math.MaxInt64/2)
		b.SetPrice(x.rj7, "no-such-line", 5)
		b.Answers["no-such-requirement"] = framework.Answer{Text: "x"}
		b.Answers[reqs[0].ID] = framework.Answer{Text: strings.Repeat("a", framework.MaxAnswerText+1)}
		b.Declarations = append(b.Declarations, "made-up")
		got := map[string]string{}
		for _, g := range b.FormatProblems(reqs, scheds) {
			got[g.Field] = g.Message
		}
		want := map[string]string{
			reqs[0].ID:                      "The answer to EPR-MED-001 must be 10000 characters or fewer",
			competition.FieldAnswers:        "One of the answers is for a requirement that is not part of this competition; reload the page and answer again",
			competition.FieldPrice(lic1.ID): "The price per licence of Licences for Guy's and St Thomas' NHS Foundation Trust cannot be negative",
			competition.FieldPrices:         "One of the prices is for a line that is not in a buying trust's price schedule; reload the page and enter the prices again",
			framework.FieldDeclarations:     "One of the declarations is not one the portal asks for; make the declarations again",
		}
		for f, m := range want {
			if got[f] != m {
				t.Errorf("problem for %s: %q, want %q", f, got[f], m)
			}
		}
		if _, err := competition.TotalPrice(b, scheds[0]); !errors.Is(err, competition.ErrPriceTooLarge) {
			t.Fatalf("an overflowing total: %v", err)
		}
		delete(b.Prices[x.rj7], "no-such-line")
		overflow := false
		for _, g := range b.FormatProblems(reqs, scheds) {
			overflow = overflow || g.Message == "The prices for St George's University Hospitals NHS Foundation Trust add up to more than the portal can hold; check them"
		}
		if !overflow {
			t.Fatal("an overflowing total is not reported")
		}
	})
}

// TestSubmitIsBlockedWithTheListOfWhatIsMissing: nothing, then part of a
// bid, cannot be submitted, and what is missing is listed; a malformed
// draft is not saved; attached documents must be the supplier's own, as
// they were attached.
func TestSubmitIsBlockedWithTheListOfWhatIsMissing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		reqs, _ := s.Requirements(ctx, c.ID)
		scheds, _ := s.PriceSchedules(ctx, c.ID)
		lic1 := scheds[1].Items[0]

		_, err := s.SubmitBid(ctx, x.sarah, c.ID, x.sarah.OrgID, 0)
		if v := fieldErrors(t, err); len(v.List) != 9 {
			t.Fatalf("submitting nothing: %v", v.List)
		}
		b := x.completeBid(t, c, x.sarah, 100)
		delete(b.Answers, reqs[1].ID)
		delete(b.Prices[x.rj1], lic1.ID)
		b.Declarations = b.Declarations[:2]
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, x.sarah.OrgID, b, 0); err != nil {
			t.Fatal(err)
		}
		_, err = s.SubmitBid(ctx, x.sarah, c.ID, x.sarah.OrgID, 0)
		wantErrors(t, err, map[string]string{
			reqs[1].ID:                      "Describe how you meet EPR-MED-002",
			competition.FieldPrice(lic1.ID): "Enter the price per licence of Licences for Guy's and St Thomas' NHS Foundation Trust",
			framework.FieldDeclarations:     "Agree to every declaration",
		})
		if n, _ := x.sealed.Count(ctx, competition.BidBox(c)); n != 0 {
			t.Fatalf("%d bids in after refused submissions", n)
		}
		if st, _ := s.BidStatus(ctx, x.sarah, c.ID, x.sarah.OrgID); st.Status != sealed.StatusDraft || len(st.Receipts) != 0 {
			t.Fatalf("status after refused submissions %+v", st)
		}

		// A malformed draft is not saved.
		bad := x.completeBid(t, c, x.sarah, 100)
		bad.SetPrice(x.rj1, lic1.ID, -5)
		wantErrors(t, s.SaveBidDraft(ctx, x.sarah, c.ID, x.sarah.OrgID, bad, 1), map[string]string{
			competition.FieldPrice(lic1.ID): "The price per licence of Licences for Guy's and St Thomas' NHS Foundation Trust cannot be negative",
		})
		if wc, v, _ := s.BidWorkingCopy(ctx, x.sarah, c.ID, x.sarah.OrgID); v != 1 || len(wc.Answers) != 2 {
			t.Fatalf("working copy version %d after a refused save: %+v", v, wc)
		}

		// Documents: the supplier's own library only, as attached.
		put := func(who audit.Actor, name, body string) *documents.Document {
			d, err := x.docs.Put(ctx, who, documents.Upload{OrganisationID: who.OrgID, OwnerType: "library", Name: name, Body: strings.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		own := put(x.sarah, "case-study.txt", "Meridian at Kingston: go-live in 14 months.\n")
		rival := put(x.james, "northgate-pricing.txt", "Northgate's price book.\n")
		attach := func(d *documents.Document, sha string) framework.AttachedDocument {
			return framework.AttachedDocument{ID: d.ID, Name: d.Name, SHA256: sha, Size: d.SizeBytes}
		}
		full := x.completeBid(t, c, x.sarah, 100)
		full.Documents = []framework.AttachedDocument{attach(rival, rival.SHA256), attach(own, strings.Repeat("a", 64))}
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, x.sarah.OrgID, full, 1); err != nil {
			t.Fatal(err)
		}
		v := fieldErrors(t, func() error { _, err := s.SubmitBid(ctx, x.sarah, c.ID, x.sarah.OrgID, 0); return err }())
		if len(v.List) != 2 || v.List[0].Field != competition.FieldBidDocuments ||
			v.List[0].Message != "northgate-pricing.txt is not in your organisation's library; attach it again" ||
			v.List[1].Message != "case-study.txt has changed since it was attached; attach it again" {
			t.Fatalf("document gaps %v", v.List)
		}
		full.Documents = []framework.AttachedDocument{attach(own, own.SHA256)}
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, x.sarah.OrgID, full, 2); err != nil {
			t.Fatal(err)
		}
		rc, err := s.SubmitBid(ctx, x.sarah, c.ID, x.sarah.OrgID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Kind != sealed.KindSubmit || rc.Number != 1 {
			t.Fatalf("receipt %+v", rc)
		}
		// The working copy is what was submitted.
		wc, _, _ := s.BidWorkingCopy(ctx, x.sarah, c.ID, x.sarah.OrgID)
		raw, _ := wc.Encode()
		if sealed.Hash(raw) != rc.SHA256 || len(wc.Documents) != 1 {
			t.Fatalf("working copy after submitting %+v", wc)
		}
	})
}

// TestBidDeadlineEdge is SECURITY.md scenario 1: saving, submitting,
// withdrawing and confirming one second before the deadline are accepted
// with receipts; at the deadline and one second after, every write is
// refused naming the deadline and the time of the attempt, and audited.
// No background worker runs: the request time decides.
func TestBidDeadlineEdge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		deadline := c.SubmissionDeadline
		content := x.completeBid(t, c, x.sarah, 100)
		content.CompetitionID = c.ID
		raw, _ := content.Encode()
		org := x.sarah.OrgID

		x.clk.Set(deadline.Add(-time.Second))
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, org, content, 0); err != nil {
			t.Fatalf("saving a second before the deadline: %v", err)
		}
		rc, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 0)
		if err != nil {
			t.Fatalf("submitting a second before the deadline: %v", err)
		}
		if rc.Kind != sealed.KindSubmit || rc.Number != 1 || !rc.ReceivedAt.Equal(deadline.Add(-time.Second)) || rc.SHA256 != sealed.Hash(raw) {
			t.Fatalf("receipt %+v", rc)
		}
		wd, err := s.WithdrawBid(ctx, x.sarah, c.ID, org, 1)
		if err != nil || wd.Kind != sealed.KindWithdraw || wd.Number != 2 || wd.SHA256 != sealed.Hash(nil) {
			t.Fatalf("withdrawing a second before the deadline: %+v (err %v)", wd, err)
		}
		re, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 2)
		if err != nil || re.Kind != sealed.KindResubmit || re.Number != 3 || re.SHA256 != rc.SHA256 {
			t.Fatalf("submitting again a second before the deadline: %+v (err %v)", re, err)
		}
		_, draftVersion, _ := s.BidWorkingCopy(ctx, x.sarah, c.ID, org)

		for _, tc := range []struct {
			at      time.Time
			attempt string
		}{{deadline, "12:00:00pm"}, {deadline.Add(time.Second), "12:00:01pm"}} {
			x.clk.Set(tc.at)
			wantDeadline(t, "save", s.SaveBidDraft(ctx, x.sarah, c.ID, org, content, draftVersion), c, tc.attempt)
			_, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 3)
			wantDeadline(t, "submit", err, c, tc.attempt)
			_, err = s.WithdrawBid(ctx, x.sarah, c.ID, org, 3)
			wantDeadline(t, "withdraw", err, c, tc.attempt)
			_, err = s.ReconfirmBid(ctx, x.sarah, c.ID, org, 3)
			wantDeadline(t, "confirm", err, c, tc.attempt)
		}
		for _, action := range []string{"competition.bid.draft", "competition.bid.submit", "competition.bid.withdraw", "competition.bid.reconfirm"} {
			if n := deniedFor(t, x, action, c.ID); n != 2 {
				t.Errorf("late %s audited %d times, want 2", action, n)
			}
		}
		var detail string
		if err := db.Table("audit_entries").Select("detail").Where("action = ? AND outcome = ?", "competition.bid.submit", audit.Denied).
			Order("seq").Limit(1).Scan(&detail).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, `"attempt":"2027-03-15T12:00:00Z"`) || !strings.Contains(detail, `"deadline":"2027-03-15T12:00:00Z"`) {
			t.Fatalf("refusal audited as %s", detail)
		}
		st, err := s.BidStatus(ctx, x.sarah, c.ID, org)
		if err != nil || st.Status != sealed.StatusSubmitted || st.Version != 3 || len(st.Receipts) != 3 {
			t.Fatalf("status after late attempts %+v (err %v)", st, err)
		}
	})
}

// TestTwoTabsOneWins: two tabs submitting, resubmitting or saving the same
// bid at once: one wins, the other gets store.ErrConflict, nothing is
// overwritten.
func TestTwoTabsOneWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		org := x.sarah.OrgID
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, org, x.completeBid(t, c, x.sarah, 100), 0); err != nil {
			t.Fatal(err)
		}
		race := func(expected int) ([]sealed.Receipt, []error) {
			var wg sync.WaitGroup
			rcs, errs := make([]sealed.Receipt, 2), make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rcs[i], errs[i] = s.SubmitBid(ctx, x.sarah, c.ID, org, expected)
				}()
			}
			wg.Wait()
			return rcs, errs
		}
		oneWins := func(what string, rcs []sealed.Receipt, errs []error) sealed.Receipt {
			t.Helper()
			won := -1
			for i, err := range errs {
				switch {
				case err == nil:
					won = i
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("%s: tab %d: %v", what, i, err)
				}
			}
			if won < 0 || errs[1-won] == nil {
				t.Fatalf("%s: errors %v, want one tab to win", what, errs)
			}
			return rcs[won]
		}
		rcs, errs := race(0)
		first := oneWins("submitting", rcs, errs)
		if first.Number != 1 || first.Kind != sealed.KindSubmit {
			t.Fatalf("winning receipt %+v", first)
		}
		rcs, errs = race(1)
		second := oneWins("resubmitting", rcs, errs)
		if second.Number != 2 || second.Kind != sealed.KindResubmit {
			t.Fatalf("winning resubmission %+v", second)
		}
		// A tab still showing an older version is refused, not obeyed.
		if _, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 1); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale resubmission: %v", err)
		}
		if _, err := s.WithdrawBid(ctx, x.sarah, c.ID, org, 0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale withdrawal: %v", err)
		}
		if st, _ := s.BidStatus(ctx, x.sarah, c.ID, org); len(st.Receipts) != 2 || st.Version != 2 || st.Status != sealed.StatusSubmitted {
			t.Fatalf("after the races %+v", st)
		}
		// Two tabs editing the working copy: the second save is stale.
		wc, v, _ := s.BidWorkingCopy(ctx, x.sarah, c.ID, org)
		a, b := wc, wc
		a.Answers = map[string]framework.Answer{}
		b.Answers = map[string]framework.Answer{}
		for id, ans := range wc.Answers {
			a.Answers[id], b.Answers[id] = ans, ans
		}
		reqs, _ := s.Requirements(ctx, c.ID)
		a.Answers[reqs[0].ID] = framework.Answer{Text: "From tab A"}
		b.Answers[reqs[0].ID] = framework.Answer{Text: "From tab B"}
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, org, a, v); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, org, b, v); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale save: %v", err)
		}
		if got, _, _ := s.BidWorkingCopy(ctx, x.sarah, c.ID, org); got.Answers[reqs[0].ID].Text != "From tab A" {
			t.Fatalf("working copy %+v", got.Answers[reqs[0].ID])
		}
	})
}

// TestLastSecondRush is SECURITY.md scenario 3: ten suppliers, each from
// two tabs, submit in the last second while the lead both extends the
// deadline and tries to bring it forward. Every supplier has exactly one
// bid, sealed as sent; nothing is lost or silently overwritten; and the
// deadline was brought forward only if that change committed before every
// bid.
func TestLastSecondRush(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		bidders := append([]audit.Actor{x.sarah, x.james}, x.appointMore(t, 8)...)
		c := x.published(t, input("SWL-EPR-2027-01"))
		deadline := c.SubmissionDeadline
		hashes := map[string]string{}
		for i, who := range bidders {
			b := x.completeBid(t, c, who, int64(1000+i))
			if err := s.SaveBidDraft(ctx, who, c.ID, who.OrgID, b, 0); err != nil {
				t.Fatal(err)
			}
			b.CompetitionID = c.ID
			raw, _ := b.Encode()
			hashes[who.OrgID] = sealed.Hash(raw)
		}

		x.clk.Set(deadline.Add(-time.Second))
		later := competition.DeadlineChange{SubmissionDeadline: deadline.Add(48 * time.Hour), Reason: "Suppliers asked for two more days.", Version: c.Version}
		earlier := competition.DeadlineChange{SubmissionDeadline: deadline.Add(-500 * time.Millisecond), Reason: "Close now.", Version: c.Version}
		type result struct {
			org string
			rc  sealed.Receipt
			err error
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			results []result
			changes = map[string]error{}
		)
		start := make(chan struct{})
		for _, who := range bidders {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					rc, err := s.SubmitBid(ctx, who, c.ID, who.OrgID, 0)
					mu.Lock()
					results = append(results, result{who.OrgID, rc, err})
					mu.Unlock()
				}()
			}
		}
		for name, ch := range map[string]competition.DeadlineChange{"later": later, "earlier": earlier} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := s.ExtendDeadline(ctx, x.aisha, c.ID, ch)
				mu.Lock()
				changes[name] = err
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()

		won := map[string]sealed.Receipt{}
		for _, r := range results {
			switch {
			case r.err == nil:
				if _, twice := won[r.org]; twice {
					t.Fatalf("supplier %s got two first receipts", r.org)
				}
				won[r.org] = r.rc
			case !errors.Is(r.err, store.ErrConflict):
				t.Fatalf("supplier %s: %v", r.org, r.err)
			}
		}
		if len(won) != len(bidders) {
			t.Fatalf("%d suppliers have a receipt, want %d", len(won), len(bidders))
		}
		for org, rc := range won {
			if rc.SHA256 != hashes[org] || rc.Number != 1 {
				t.Fatalf("supplier %s's receipt %+v does not match what it sent", org, rc)
			}
		}
		if n, _ := x.sealed.Count(ctx, competition.BidBox(c)); n != len(bidders) {
			t.Fatalf("%d bids in, want %d", n, len(bidders))
		}

		// At most one of the two changes applied (they were made from the
		// same version); bringing the deadline forward may only have won
		// before any bid committed.
		after := x.reload(t, c.ID)
		var changeSeq int64
		if err := db.Table("audit_entries").Select("COALESCE(MAX(seq), 0)").
			Where("action = ? AND outcome = ? AND object_id = ?", "competition.deadline.change", audit.Success, c.ID).Scan(&changeSeq).Error; err != nil {
			t.Fatal(err)
		}
		subs := make([]string, 0, len(won))
		for _, rc := range won {
			subs = append(subs, rc.SubmissionID)
		}
		var firstBid int64
		if err := db.Table("audit_entries").Select("MIN(seq)").
			Where("action = ? AND object_id IN ?", "sealed.submit", subs).Scan(&firstBid).Error; err != nil {
			t.Fatal(err)
		}
		switch {
		case after.SubmissionDeadline.Equal(later.SubmissionDeadline):
			if changes["later"] != nil {
				t.Fatalf("the extension applied but reported %v", changes["later"])
			}
		case after.SubmissionDeadline.Equal(earlier.SubmissionDeadline):
			if changes["earlier"] != nil || changeSeq > firstBid {
				t.Fatalf("the deadline came forward (audit %d) after a bid was in (audit %d): %v", changeSeq, firstBid, changes)
			}
		case after.SubmissionDeadline.Equal(deadline):
			if changes["later"] == nil || changes["earlier"] == nil {
				t.Fatalf("a change reported success but the deadline did not move: %v", changes)
			}
		default:
			t.Fatalf("deadline %v", after.SubmissionDeadline)
		}
		for name, err := range changes {
			if _, isField := validate.As(err); err != nil && !errors.Is(err, store.ErrConflict) && !isField {
				t.Fatalf("%s: %v", name, err)
			}
		}

		// A second rush of resubmissions while the deadline is extended
		// again: every one is kept, as a second version.
		after = x.reload(t, c.ID)
		x.clk.Set(after.SubmissionDeadline.Add(-time.Second))
		again := competition.DeadlineChange{SubmissionDeadline: after.SubmissionDeadline.Add(24 * time.Hour), Reason: "One more day.", Version: after.Version}
		errs := make([]error, len(bidders)+1)
		for i, who := range bidders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.SubmitBid(ctx, who, c.ID, who.OrgID, 1)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[len(bidders)] = s.ExtendDeadline(ctx, x.aisha, c.ID, again)
		}()
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("second rush, %d: %v", i, err)
			}
		}
		if got := x.reload(t, c.ID); !got.SubmissionDeadline.Equal(again.SubmissionDeadline) {
			t.Fatalf("deadline after the extension %v", got.SubmissionDeadline)
		}
		for _, who := range bidders {
			st, err := s.BidStatus(ctx, who, c.ID, who.OrgID)
			if err != nil || len(st.Receipts) != 2 || st.Receipts[1].Kind != sealed.KindResubmit || st.Receipts[1].SHA256 != hashes[who.OrgID] {
				t.Fatalf("%s after two rushes: %+v (err %v)", who.Label, st, err)
			}
		}
		if n := count(t, db, "sealed_versions", "submission_id IN ?", subs); n != int64(2*len(bidders)) {
			t.Fatalf("%d versions kept, want %d", n, 2*len(bidders))
		}
	})
}

// TestReconfirmAfterTheTermsChange: a changed requirement or a new document
// marks a submitted bid as needing reconfirmation; confirming it seals the
// same content again as a new version with its own receipt.
func TestReconfirmAfterTheTermsChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		org := x.sarah.OrgID
		first := x.bid(t, c, x.sarah, 100)
		st, err := s.BidStatus(ctx, x.sarah, c.ID, org)
		if err != nil || st.NeedsReconfirmation || st.SubmittedAt == nil || !st.SubmittedAt.Equal(first.ReceivedAt) || st.Version != 1 {
			t.Fatalf("status after submitting %+v (err %v)", st, err)
		}
		_, err = s.ReconfirmBid(ctx, x.sarah, c.ID, org, 1)
		wantErrors(t, err, map[string]string{
			competition.FieldBid: "Your bid already answers the current terms: they have not changed since you submitted it at 9:00:00am on 15 February 2027 (UK time)",
		})

		x.clk.Advance(time.Hour)
		reqs, _ := s.Requirements(ctx, c.ID)
		if err := s.ChangeRequirement(ctx, x.aisha, c.ID, competition.RequirementChange{Reason: "Closed-loop is national policy.", Edits: []competition.RequirementEdit{
			{RequirementID: reqs[0].ID, Text: "The system must support closed-loop medicines administration.", Weight: 70, Version: reqs[0].Version},
			{RequirementID: reqs[1].ID, Text: reqs[1].Text, Weight: 30, Version: reqs[1].Version},
		}}); err != nil {
			t.Fatal(err)
		}
		if st, _ = s.BidStatus(ctx, x.sarah, c.ID, org); !st.NeedsReconfirmation {
			t.Fatal("a bid submitted before the change does not need reconfirmation")
		}
		if _, err := s.ReconfirmBid(ctx, x.sarah, c.ID, org, 0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("confirming from a stale page: %v", err)
		}
		x.clk.Advance(time.Minute)
		again, err := s.ReconfirmBid(ctx, x.sarah, c.ID, org, 1)
		if err != nil {
			t.Fatal(err)
		}
		if again.Kind != sealed.KindResubmit || again.Number != 2 || again.SHA256 != first.SHA256 || !again.ReceivedAt.Equal(x.clk.Now()) {
			t.Fatalf("confirmation receipt %+v", again)
		}
		st, _ = s.BidStatus(ctx, x.sarah, c.ID, org)
		if st.NeedsReconfirmation || st.Version != 2 || len(st.Receipts) != 2 || !st.SubmittedAt.Equal(again.ReceivedAt) {
			t.Fatalf("status after confirming %+v", st)
		}
		if n := auditCount(t, db, "competition.bid.reconfirm", audit.Success); n != 1 {
			t.Fatalf("confirmation audited %d times", n)
		}

		// A new document is a change to the terms too. A bid changed since
		// it was submitted is not confirmed as it was: it is submitted.
		x.clk.Advance(time.Hour)
		doc, err := x.docs.Put(ctx, x.aisha, documents.Upload{OrganisationID: x.rj7, OwnerType: "competition", OwnerID: c.ID,
			Name: "site-plan.txt", Body: strings.NewReader("Two data centres.\n")})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddDocument(ctx, x.aisha, c.ID, doc.ID, "Suppliers asked where the data centres are."); err != nil {
			t.Fatal(err)
		}
		if st, _ = s.BidStatus(ctx, x.sarah, c.ID, org); !st.NeedsReconfirmation {
			t.Fatal("a new document does not call for reconfirmation")
		}
		wc, v, _ := s.BidWorkingCopy(ctx, x.sarah, c.ID, org)
		wc.Answers[reqs[0].ID] = framework.Answer{Text: "Closed-loop administration at every site."}
		if err := s.SaveBidDraft(ctx, x.sarah, c.ID, org, wc, v); err != nil {
			t.Fatal(err)
		}
		_, err = s.ReconfirmBid(ctx, x.sarah, c.ID, org, 2)
		wantErrors(t, err, map[string]string{
			competition.FieldBid: "You have changed your bid since you submitted it, so it cannot be confirmed as it was; submit it again to answer the changed terms",
		})
		x.clk.Advance(time.Minute)
		third, err := s.SubmitBid(ctx, x.sarah, c.ID, org, 2)
		if err != nil || third.Number != 3 || third.SHA256 == first.SHA256 {
			t.Fatalf("resubmitting the changed bid: %+v (err %v)", third, err)
		}
		if st, _ = s.BidStatus(ctx, x.sarah, c.ID, org); st.NeedsReconfirmation {
			t.Fatal("a bid resubmitted after the change needs reconfirmation")
		}

		// A withdrawn bid has nothing to confirm.
		if _, err := s.WithdrawBid(ctx, x.sarah, c.ID, org, 3); err != nil {
			t.Fatal(err)
		}
		_, err = s.ReconfirmBid(ctx, x.sarah, c.ID, org, 4)
		wantErrors(t, err, map[string]string{competition.FieldBid: "Your organisation has no submitted bid to confirm"})
		if st, _ = s.BidStatus(ctx, x.sarah, c.ID, org); st.Status != sealed.StatusWithdrawn || st.NeedsReconfirmation || len(st.Receipts) != 4 {
			t.Fatalf("status after withdrawing %+v", st)
		}
	})
}

// TestWhoMayBid: a supplier that declined, one that has not registered the
// interest the competition asks for, one whose appointment is suspended and
// every supplier of a cancelled competition are refused, with reasons; a
// supplier never invited is refused as forbidden, audited.
func TestWhoMayBid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		bid := func(who audit.Actor) competition.BidContent { return x.completeBid(t, c, who, 100) }

		if err := s.Decline(ctx, x.james, c.ID, x.james.OrgID, "No capacity this year."); err != nil {
			t.Fatal(err)
		}
		wantErrors(t, s.SaveBidDraft(ctx, x.james, c.ID, x.james.OrgID, bid(x.james), 0), map[string]string{
			competition.FieldInvitation: "Your organisation declined this invitation on 15 February 2027, so it cannot bid",
		})
		if err := s.SaveBidDraft(ctx, x.carl, c.ID, x.carl.OrgID, bid(x.carl), 0); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("a supplier never invited saved a bid: %v", err)
		}
		if n := deniedFor(t, x, "competition.bid.draft", c.ID); n != 1 {
			t.Fatalf("refused bid by a supplier not invited audited %d times", n)
		}

		app := x.applicationOf(t, x.sarah.OrgID)
		if err := x.fw.SetAppointment(ctx, x.tom, app.ID, framework.AppointmentSuspended, "Insolvency proceedings are being looked into."); err != nil {
			t.Fatal(err)
		}
		wantErrors(t, s.SaveBidDraft(ctx, x.sarah, c.ID, x.sarah.OrgID, bid(x.sarah), 0), map[string]string{
			competition.FieldBid: "Your appointment to this lot is suspended: Insolvency proceedings are being looked into.",
		})
		if err := x.fw.SetAppointment(ctx, x.tom, app.ID, framework.AppointmentCurrent, "Cleared."); err != nil {
			t.Fatal(err)
		}
		x.bid(t, c, x.sarah, 100)

		// With an expression-of-interest step, interest first.
		in := input("SWL-EPR-2027-02")
		in.ExpressionOfInterest = true
		in.Timeline.EOIDeadline = at(2027, 2, 22, 17, 0)
		eoi := x.published(t, in)
		wantErrors(t, s.SaveBidDraft(ctx, x.sarah, eoi.ID, x.sarah.OrgID, x.completeBid(t, eoi, x.sarah, 100), 0), map[string]string{
			competition.FieldInvitation: "Register your organisation's interest before bidding; expressions of interest close at 5pm on 22 February 2027 (UK time)",
		})
		if err := s.RegisterInterest(ctx, x.sarah, eoi.ID, x.sarah.OrgID); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveBidDraft(ctx, x.sarah, eoi.ID, x.sarah.OrgID, x.completeBid(t, eoi, x.sarah, 100), 0); err != nil {
			t.Fatalf("an interested supplier saving its bid: %v", err)
		}
		x.clk.Set(*eoi.EOIDeadline)
		wantErrors(t, s.SaveBidDraft(ctx, x.james, eoi.ID, x.james.OrgID, x.completeBid(t, eoi, x.james, 100), 0), map[string]string{
			competition.FieldInvitation: "Your organisation did not register interest before expressions of interest closed at 5pm on 22 February 2027 (UK time), so it cannot bid",
		})

		// Cancelled: no more bids, but the supplier still sees its own.
		if err := s.Cancel(ctx, x.aisha, c.ID, "Funding withdrawn."); err != nil {
			t.Fatal(err)
		}
		_, err := s.SubmitBid(ctx, x.sarah, c.ID, x.sarah.OrgID, 1)
		wantErrors(t, err, map[string]string{competition.FieldState: "The competition has been cancelled, so it no longer takes bids"})
		if st, err := s.BidStatus(ctx, x.sarah, c.ID, x.sarah.OrgID); err != nil || st.Status != sealed.StatusSubmitted {
			t.Fatalf("status in a cancelled competition %+v (err %v)", st, err)
		}
	})
}

// TestBidCountOnlyForTheLead: the lead trust's trust leads see how many
// bids are in, never who, and only when the competition shows it; anyone
// else is refused and audited.
func TestBidCountOnlyForTheLead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		s := x.s
		c := x.published(t, input("SWL-EPR-2027-01"))
		if n, err := s.BidCount(ctx, x.aisha, c.ID); err != nil || n != 0 {
			t.Fatalf("count %d (err %v)", n, err)
		}
		x.bid(t, c, x.sarah, 100)
		rc := x.bid(t, c, x.james, 100)
		if n, err := s.BidCount(ctx, x.aisha, c.ID); err != nil || n != 2 {
			t.Fatalf("count %d (err %v)", n, err)
		}
		if _, err := s.WithdrawBid(ctx, x.james, c.ID, x.james.OrgID, rc.Number); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.BidCount(ctx, x.aisha, c.ID); n != 1 {
			t.Fatalf("count after a withdrawal %d", n)
		}
		for _, who := range []audit.Actor{x.omar, x.ben, x.chloe, x.sarah, x.yara, x.tom} {
			if _, err := s.BidCount(ctx, who, c.ID); !errors.Is(err, competition.ErrForbidden) {
				t.Fatalf("%s counted the bids: %v", who.Label, err)
			}
		}
		if n := deniedFor(t, x, "competition.bids.count", c.ID); n != 6 {
			t.Fatalf("refused counts audited %d times, want 6", n)
		}

		in := input("SWL-EPR-2027-02")
		in.ShowBidCount = false
		hidden := x.published(t, in)
		if _, err := s.BidCount(ctx, x.aisha, hidden.ID); !errors.Is(err, competition.ErrForbidden) {
			t.Fatalf("the lead counted the bids of a competition that hides the count: %v", err)
		}
		var detail string
		db.Table("audit_entries").Select("detail").Where("action = ? AND object_id = ?", "competition.bids.count", hidden.ID).Scan(&detail)
		if !strings.Contains(detail, "the competition does not show how many bids are in") {
			t.Fatalf("refusal audited as %q", detail)
		}
	})
}
