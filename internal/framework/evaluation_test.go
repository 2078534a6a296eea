package framework_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestEvaluationToLiveAgreement runs a closed PCR 2015 framework from
// publication to a live agreement: two invited suppliers apply to two lots
// (and an uninvited one tries), the lead opens the applications at the
// deadline, two evaluators score them, the lead decides and starts the
// standstill, the letters go out, and the clock makes the agreement live.
func TestEvaluationToLiveAgreement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := evalSetup(t, db)
		s, fw := e.s, e.fw

		// Evaluators are chosen while the framework is a draft, from the
		// consortium's and member trusts' evaluators only.
		cands, err := s.EvaluatorCandidates(ctx, fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cands {
			names = append(names, c.Name+" ("+c.OrganisationName+")")
		}
		if strings.Join(names, ", ") != "Ben Carter (St George's University Hospitals NHS Foundation Trust), Chloe Adams (Guy's and St Thomas' NHS Foundation Trust)" {
			t.Fatalf("candidates %v", names)
		}
		err = s.AssignEvaluators(ctx, e.tom, fw.ID, []string{e.ben.UserID, e.aisha.UserID})
		if got := fieldErrors(t, err).For("evaluators"); got != "Aisha Khan is not an evaluator at the consortium or one of its member trusts" {
			t.Fatalf("non-evaluator assigned: %q", got)
		}
		if err := s.AssignEvaluators(ctx, e.ben, fw.ID, []string{e.ben.UserID}); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("an evaluator assigned evaluators: %v", err)
		}
		if err := s.AssignEvaluators(ctx, e.tom, fw.ID, []string{e.chloe.UserID, e.ben.UserID, e.ben.UserID}); err != nil {
			t.Fatal(err)
		}
		evs, _ := s.Evaluators(ctx, fw.ID)
		if len(evs) != 2 || evs[0].Name != "Ben Carter" || evs[1].OrganisationID != e.rj1 {
			t.Fatalf("evaluators %+v", evs)
		}
		if ok, _ := s.IsEvaluator(ctx, fw.ID, e.chloe.UserID); !ok {
			t.Fatal("Chloe is not an evaluator")
		}
		if ok, _ := s.IsEvaluator(ctx, fw.ID, e.aisha.UserID); ok {
			t.Fatal("Aisha is an evaluator")
		}

		if err := s.Publish(ctx, e.tom, fw.ID); err != nil {
			t.Fatal(err)
		}
		transitions(t, s, 1) // draft -> scheduled, nobody told
		if n := len(domaintest.Notes(t, db, "framework_update")); n != 0 {
			t.Fatalf("%d updates for a scheduled framework", n)
		}
		e.invite(t, e.sarah, "sarah.lund@meridian.example.com")
		e.invite(t, e.james, "james.whitfield@northgate.example.com")

		e.clk.Set(fw.ApplicationsOpen)
		transitions(t, s, 1)
		updates(t, db, "applications have opened", e.tom, e.nadia, e.sarah, e.james)
		for _, n := range domaintest.Notes(t, db, "framework_update") {
			want := framework.SupplierPath(fw.ID)
			if n.UserID == e.tom.UserID || n.UserID == e.nadia.UserID {
				want = framework.FrameworkPath(fw.ID)
			}
			if n.Link != want || n.Data["Framework"] != "SLCSC-EPR-2027 Electronic patient record systems" {
				t.Fatalf("update %+v, want link %s", n, want)
			}
		}

		e.apply(t, e.sarah, e.lot1, e.reqs1, "MERIDIAN")
		e.apply(t, e.sarah, e.lot2, e.reqs2, "MERIDIAN")
		e.apply(t, e.james, e.lot1, e.reqs1, "NORTHGATE")
		e.apply(t, e.james, e.lot2, e.reqs2, "NORTHGATE")
		e.apply(t, e.carl, e.lot1, e.reqs1, "CALDICOTT") // never invited

		// Before the deadline nothing is opened.
		e.clk.Set(fw.ApplicationDeadline.Add(-time.Minute))
		_, err = s.OpenApplications(ctx, e.tom, fw.ID)
		if got := fieldErrors(t, err).For("application_deadline"); got != "Applications stay sealed until the deadline at midday on 20 January 2027 (UK time); open them after it" {
			t.Fatalf("opening before the deadline: %q", got)
		}
		if n := count(t, db, "framework_applications"); n != 0 {
			t.Fatalf("%d applications recorded before the deadline", n)
		}
		if n := auditCount(t, db, "sealed.open", ""); n != 0 {
			t.Fatalf("a box was opened before the deadline (%d)", n)
		}
		if apps, err := s.Applications(ctx, fw.ID); err != nil || len(apps) != 0 {
			t.Fatalf("applications before opening: %v (err %v)", apps, err)
		}

		e.clk.Set(fw.ApplicationDeadline)
		if _, err := s.OpenApplications(ctx, e.ben, fw.ID); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("an evaluator opened the applications: %v", err)
		}
		if n := auditCount(t, db, "framework.applications.open", audit.Denied); n != 1 {
			t.Fatalf("refused opening audited %d times", n)
		}
		// One lead turning a key twice does not open anything.
		first, err := s.OpenApplications(ctx, e.tom, fw.ID)
		if err != nil || first.Opened || len(first.Keys) != 1 || first.Keys[0].Name != "Tom Reilly" {
			t.Fatalf("first key: %+v (err %v)", first, err)
		}
		if _, err := s.OpenApplications(ctx, e.tom, fw.ID); !strings.Contains(fieldErrors(t, err).For("state"), "a second consortium lead") {
			t.Fatalf("the same lead's second key: %v", err)
		}
		if n := count(t, db, "framework_applications"); n != 0 {
			t.Fatalf("%d applications recorded with one key", n)
		}
		if n := auditCount(t, db, "framework.applications.key", audit.Denied); n != 1 {
			t.Fatalf("the same lead's second key audited %d times as refused, want 1", n)
		}
		second, err := s.OpenApplications(ctx, e.nadia, fw.ID)
		if err != nil || !second.Opened || second.Applications != 4 {
			t.Fatalf("second key: %+v (err %v), want 4 opened: the uninvited supplier is not opened", second, err)
		}
		if n := auditCount(t, db, "framework.applications.key", audit.Success); n != 2 {
			t.Fatalf("keys audited %d times, want 2", n)
		}
		if _, err := s.OpenApplications(ctx, e.tom, fw.ID); !strings.HasPrefix(fieldErrors(t, err).For("state"), "The applications have already been opened") {
			t.Fatalf("second opening: %v", err)
		}
		if n := auditCount(t, db, "sealed.open", audit.Success); n != 2 {
			t.Fatalf("sealed boxes opened %d times, want once per lot", n)
		}
		var detail string
		db.Model(&audit.Entry{}).Where("action = ?", "framework.applications.open").Where("outcome = ?", audit.Success).Pluck("detail", &detail)
		if !strings.Contains(detail, `"applications":4`) || !strings.Contains(detail, `"ineligible":1`) {
			t.Fatalf("opening audited as %s", detail)
		}
		transitions(t, s, 1)
		updates(t, db, "applications have closed and evaluation has started", e.tom, e.nadia, e.sarah, e.james, e.carl)

		apps, err := s.Applications(ctx, fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, a := range apps {
			listed = append(listed, a.Lot.Title+": "+a.Supplier.Name)
			// The second keyholder is the one who opened.
			if a.Status != framework.ApplicationOpened || len(a.SHA256) != 64 || a.VersionNumber != 1 || a.OpenedBy != e.nadia.UserID {
				t.Fatalf("application %+v", a)
			}
		}
		if strings.Join(listed, "; ") != "Acute EPR: Meridian Health Systems Ltd; Acute EPR: Northgate Clinical Software Ltd; Hosting: Meridian Health Systems Ltd; Hosting: Northgate Clinical Software Ltd" {
			t.Fatalf("applications %v", listed)
		}
		m1, n1, m2, n2 := apps[0].ID, apps[1].ID, apps[2].ID, apps[3].ID

		// Evaluators read the content from the sealed box; others cannot.
		content, err := s.ApplicationContent(ctx, e.ben, m1)
		if err != nil {
			t.Fatal(err)
		}
		if got := content.Answers[req(t, e.reqs1, "EPR-MED-001").ID].Text; got != "MERIDIAN answer to EPR-MED-001" {
			t.Fatalf("content %q", got)
		}
		if _, err := s.ApplicationContent(ctx, e.aisha, m1); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("a trust lead read an application: %v", err)
		}

		// Scoring: refusals first, and nothing is saved in part.
		med1, med2, med3, sec := req(t, e.reqs1, "EPR-MED-001"), req(t, e.reqs1, "EPR-MED-002"), req(t, e.reqs1, "EPR-MED-003"), req(t, e.reqs1, "EPR-SEC-001")
		good := framework.ScoreInput{LotRequirementID: med2.ID, Score: mark(3), Justification: "Live at two trusts"}
		if err := s.SaveScores(ctx, e.aisha, m1, []framework.ScoreInput{good}); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("an unassigned user scored: %v", err)
		}
		err = s.SaveScores(ctx, e.ben, m1, []framework.ScoreInput{
			good,
			{LotRequirementID: med1.ID, Score: mark(5), Justification: "Outstanding"},
			{LotRequirementID: med3.ID, Score: mark(2), Justification: "  "},
			{LotRequirementID: sec.ID, Score: mark(4), Justification: "Certificate seen"},
		})
		v := fieldErrors(t, err)
		for id, msg := range map[string]string{
			framework.FieldMark(med1):          "The mark for EPR-MED-001 must be on the scale of 0 (no response) to 4; 5 is not on it",
			framework.FieldJustification(med3): "Explain why you gave EPR-MED-003 this mark",
			framework.FieldMark(sec):           "EPR-SEC-001 is marked pass or fail, not on the 0 to 4 scale",
		} {
			if got := v.For(id); got != msg {
				t.Errorf("error for %s: %q, want %q", id, got, msg)
			}
		}
		if len(v.List) != 3 {
			t.Errorf("errors %v", v.List)
		}
		if n := count(t, db, "framework_scores"); n != 0 {
			t.Fatalf("%d scores saved from a refused set", n)
		}
		if err := s.SaveScores(ctx, e.ben, m1, []framework.ScoreInput{good, {LotRequirementID: sec.ID, Pass: yes(), Justification: "Certificate seen"}}); err != nil {
			t.Fatalf("partial draft: %v", err)
		}
		v = fieldErrors(t, s.SubmitScores(ctx, e.ben, m1))
		if v.For(framework.FieldMark(med1)) != "Score EPR-MED-001 before submitting" || v.For(framework.FieldMark(med3)) != "Score EPR-MED-003 before submitting" || len(v.List) != 2 {
			t.Fatalf("submitting a partial set: %v", v.List)
		}
		e.score(t, e.ben, m1, marks(e.reqs1, map[string]int{"EPR-MED-001": 4, "EPR-MED-002": 3, "EPR-MED-003": 2}))
		if err := s.SaveScores(ctx, e.ben, m1, []framework.ScoreInput{good}); !strings.HasPrefix(fieldErrors(t, err).For("scores"), "You submitted your scores for this application at") {
			t.Fatalf("changed after submitting: %v", err)
		}
		mine, err := s.MyScores(ctx, m1, e.ben.UserID)
		if err != nil || !mine.Submitted() || len(mine.Scores) != 4 {
			t.Fatalf("Ben's scores %+v (err %v)", mine, err)
		}
		if sc, ok := mine.For(med2.ID); !ok || *sc.Score != 3 || sc.Justification != "Evidence seen for EPR-MED-002" {
			t.Fatalf("Ben's mark for EPR-MED-002: %+v", sc)
		}

		// Nobody but the lead sees others' scores until all have submitted.
		for _, who := range []audit.Actor{e.ben, e.chloe} {
			if _, err := s.Scores(ctx, who, m1); !errors.Is(err, framework.ErrScoresHidden) {
				t.Fatalf("%s saw the scores early: %v", who.Label, err)
			}
		}
		if _, err := s.Scores(ctx, e.aisha, m1); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("a trust lead saw the scores: %v", err)
		}
		all, err := s.Scores(ctx, e.tom, m1)
		if err != nil || len(all) != 2 || !all[0].Submitted() || all[1].Submitted() || len(all[1].Scores) != 0 {
			t.Fatalf("the lead's view: %+v (err %v)", all, err)
		}
		v = fieldErrors(t, s.Decide(ctx, e.tom, fw.ID, nil))
		if got := v.For(framework.FieldAppoint(m1)); got != "The evaluation of Meridian Health Systems Ltd's application to lot 1 (Acute EPR) is not finished: 1 of 2 evaluators have submitted their scores" {
			t.Fatalf("deciding an unfinished evaluation: %q", got)
		}

		e.score(t, e.chloe, m1, marks(e.reqs1, map[string]int{"EPR-MED-001": 4, "EPR-MED-002": 4, "EPR-MED-003": 2}))
		seen, err := s.Scores(ctx, e.ben, m1)
		if err != nil || len(seen) != 2 || !seen[1].Submitted() {
			t.Fatalf("Ben's view once all submitted: %+v (err %v)", seen, err)
		}
		// Northgate fails the pass/fail requirement with one of two evaluators: at least half.
		e.score(t, e.ben, n1, marks(e.reqs1, map[string]int{"EPR-MED-001": 3, "EPR-MED-002": 3, "EPR-MED-003": 3}, "EPR-SEC-001"))
		e.score(t, e.chloe, n1, marks(e.reqs1, map[string]int{"EPR-MED-001": 2, "EPR-MED-002": 3, "EPR-MED-003": 3}))
		e.score(t, e.ben, m2, marks(e.reqs2, map[string]int{"EPR-MED-002": 3}))
		e.score(t, e.chloe, m2, marks(e.reqs2, map[string]int{"EPR-MED-002": 3}))
		e.score(t, e.ben, n2, marks(e.reqs2, map[string]int{"EPR-MED-002": 2}))
		e.score(t, e.chloe, n2, marks(e.reqs2, map[string]int{"EPR-MED-002": 2}))

		// Results: (4 + 3.5 + 2) / 4 x 10 each / 30 = 79.2%; Northgate 70.8% but failed.
		r1, err := s.LotResults(ctx, e.lot1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(r1) != 2 || r1[0].Application.ID != m1 || r1[0].Score != 79.2 || r1[0].Rank != 1 || !r1[0].Passed || !r1[0].Complete() ||
			r1[1].Application.ID != n1 || r1[1].Score != 70.8 || r1[1].Rank != 0 || r1[1].Passed || len(r1[1].Failed) != 1 || r1[1].Failed[0].Reference != "EPR-SEC-001" {
			t.Fatalf("lot 1 results %+v", r1)
		}
		r2, _ := s.LotResults(ctx, e.lot2.ID)
		if len(r2) != 2 || r2[0].Score != 75 || r2[0].Rank != 1 || r2[1].Score != 50 || r2[1].Rank != 2 || r2[1].Submitted != 2 || r2[1].Evaluators != 2 {
			t.Fatalf("lot 2 results %+v", r2)
		}

		// Decisions: every refusal at once, nothing saved.
		v = fieldErrors(t, s.Decide(ctx, e.tom, fw.ID, []framework.Decision{
			{ApplicationID: m1, Appoint: true}, {ApplicationID: n1, Appoint: true},
			{ApplicationID: m2, Appoint: true}, {ApplicationID: n2, Appoint: true},
		}))
		if v.For(framework.FieldAppoint(n1)) != "Northgate Clinical Software Ltd cannot be appointed to lot 1 (Acute EPR): it failed EPR-SEC-001" ||
			v.For("lot2") != "Lot 2 (Hosting) can have at most 1 supplier; you chose to appoint 2" || len(v.List) != 2 {
			t.Fatalf("appointing a failed supplier and too many: %v", v.List)
		}
		v = fieldErrors(t, s.Decide(ctx, e.tom, fw.ID, []framework.Decision{
			{ApplicationID: m1, Appoint: true}, {ApplicationID: n1, Reason: " "}, {ApplicationID: m2, Appoint: true},
		}))
		if v.For(framework.FieldDecisionReason(n1)) != "Say why Northgate Clinical Software Ltd is not appointed to lot 1 (Acute EPR); the reason goes in its award letter" ||
			v.For(framework.FieldAppoint(n2)) != "Decide whether to appoint Northgate Clinical Software Ltd to lot 2 (Hosting)" || len(v.List) != 2 {
			t.Fatalf("no reason and an undecided application: %v", v.List)
		}
		var decided int64
		db.Table("framework_applications").Where("status <> ?", framework.ApplicationOpened).Count(&decided)
		if decided != 0 {
			t.Fatalf("%d decisions saved from refused sets", decided)
		}
		v = fieldErrors(t, s.StartStandstill(ctx, e.tom, fw.ID))
		if len(v.List) != 4 || v.For(framework.FieldAppoint(m2)) != "Decide whether to appoint Meridian Health Systems Ltd to lot 2 (Hosting)" {
			t.Fatalf("standstill before decisions: %v", v.List)
		}

		decidedAt := at(2027, 1, 29, 15, 0)
		e.clk.Set(decidedAt)
		if err := s.Decide(ctx, e.tom, fw.ID, []framework.Decision{
			{ApplicationID: m1, Appoint: true},
			{ApplicationID: n1, Reason: "Your application did not show DSP Toolkit compliance (EPR-SEC-001)."},
			{ApplicationID: m2, Appoint: true, Reason: "Strongest hosting offer."},
			{ApplicationID: n2, Reason: "The lot takes one supplier; yours scored 50.0% against 75.0%."},
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.AssignEvaluators(ctx, e.tom, fw.ID, []string{e.ben.UserID}); fieldErrors(t, err).For("evaluators") != "Decisions have been recorded, so the evaluators can no longer be changed" {
			t.Fatalf("evaluators changed after the decisions: %v", err)
		}
		if _, err := s.Agreement(ctx, fw.ID); !errors.Is(err, framework.ErrNoAgreement) {
			t.Fatalf("agreement before the standstill: %v", err)
		}

		// Standstill: PCR 2015, letters sent on Monday 1 February 2027, so
		// it ends at midnight at the end of Thursday 11 February.
		e.clk.Set(at(2027, 2, 1, 10, 0))
		if err := s.StartStandstill(ctx, e.ben, fw.ID); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("an evaluator started the standstill: %v", err)
		}
		if err := s.StartStandstill(ctx, e.tom, fw.ID); err != nil {
			t.Fatal(err)
		}
		ends := at(2027, 2, 12, 0, 0)
		got, _ := s.Framework(ctx, fw.ID)
		if got.Status != framework.StatusStandstill || got.StandstillEnds == nil || !got.StandstillEnds.Equal(ends) || got.State(e.clk.Now()) != framework.StateStandstill {
			t.Fatalf("after starting standstill: %+v", got)
		}
		if err := s.StartStandstill(ctx, e.tom, fw.ID); fieldErrors(t, err).For("state") == "" {
			t.Fatal("standstill started twice")
		}
		letters := domaintest.Notes(t, db, "award_letter")
		if len(letters) != 4 {
			t.Fatalf("%d award letters, want one per application to each supplier user", len(letters))
		}
		want := map[string]string{ // user, procurement -> successful: reasons
			e.sarah.UserID + " SLCSC-EPR-2027 Electronic patient record systems, lot 1: Acute EPR": "true: Your application scored 79.2% and was ranked 1 of 1 passing applications to this lot.",
			e.sarah.UserID + " SLCSC-EPR-2027 Electronic patient record systems, lot 2: Hosting":   "true: Your application scored 75.0% and was ranked 1 of 2 passing applications to this lot.\n\nStrongest hosting offer.",
			e.james.UserID + " SLCSC-EPR-2027 Electronic patient record systems, lot 1: Acute EPR": "false: Your application did not pass EPR-SEC-001. Appointed to this lot: Meridian Health Systems Ltd (79.2%).\n\nYour application did not show DSP Toolkit compliance (EPR-SEC-001).",
			e.james.UserID + " SLCSC-EPR-2027 Electronic patient record systems, lot 2: Hosting":   "false: Your application scored 50.0% and was ranked 2 of 2 passing applications to this lot. Appointed to this lot: Meridian Health Systems Ltd (75.0%).\n\nThe lot takes one supplier; yours scored 50.0% against 75.0%.",
		}
		for _, l := range letters {
			key := l.UserID + " " + l.Data["Procurement"].(string)
			gotLetter := map[bool]string{true: "true", false: "false"}[l.Data["Successful"].(bool)] + ": " + l.Data["Reasons"].(string)
			if want[key] != gotLetter {
				t.Errorf("letter %s: %q, want %q", key, gotLetter, want[key])
			}
			if l.Data["StandstillEnds"] != "2027-02-12T00:00:00Z" || l.Link != "/frameworks/"+fw.ID+"/apply" {
				t.Errorf("letter %s: standstill %v, link %s", key, l.Data["StandstillEnds"], l.Link)
			}
			org := map[string]string{e.sarah.UserID: "Meridian Health Systems Ltd", e.james.UserID: "Northgate Clinical Software Ltd"}[l.UserID]
			if l.Data["Organisation"] != org {
				t.Errorf("letter %s to %v", key, l.Data["Organisation"])
			}
		}
		var emailed int64
		db.Table("test_jobs").Where("kind = ? AND notification_id IN (?)", "notify_email",
			db.Table("notifications").Select("id").Where("kind = ?", "award_letter")).Count(&emailed)
		if emailed != 4 {
			t.Fatalf("%d award letters queued for email, want 4", emailed)
		}
		transitions(t, s, 1)
		updates(t, db, "the standstill period has started", e.tom, e.nadia, e.sarah, e.james, e.carl)

		ag, err := s.Agreement(ctx, fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ag.State != framework.StateStandstill || ag.LiveFrom != nil || !ag.StandstillEnds.Equal(ends) || len(ag.Lots) != 2 {
			t.Fatalf("agreement in standstill %+v", ag)
		}
		if ok, _ := s.VisibleToBuyer(ctx, fw.ID, e.rj1); ok {
			t.Fatal("buyers see the framework during the standstill")
		}

		// The clock ends the standstill; two instances record it at once.
		e.clk.Set(ends)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		errs := make([]error, 2)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], errs[i] = s.RecordTransitions(ctx)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || counts[0]+counts[1] != 1 {
			t.Fatalf("concurrent transitions recorded %v (errors %v)", counts, errs)
		}
		updates(t, db, "the framework agreement is live", e.tom, e.nadia, e.sarah, e.james, e.carl)
		transitions(t, s, 0)

		ag, err = s.Agreement(ctx, fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ag.State != framework.StateLive || ag.LiveFrom == nil || !ag.LiveFrom.Equal(ends) || !ag.TermStart.Equal(date(2027, 4, 1)) || !ag.TermEnd.Equal(date(2031, 4, 1)) {
			t.Fatalf("live agreement %+v", ag)
		}
		for i, l := range ag.Lots {
			if l.Lot.Number != i+1 || len(l.Suppliers) != 1 || l.Suppliers[0].Name != "Meridian Health Systems Ltd" || !l.Suppliers[0].AppointedAt.Equal(decidedAt) {
				t.Fatalf("lot %d of the agreement: %+v", i+1, l)
			}
		}
		if ok, err := s.VisibleToBuyer(ctx, fw.ID, e.rj1); err != nil || !ok {
			t.Fatalf("a member trust cannot see the live framework (err %v)", err)
		}
		if ok, _ := s.VisibleToBuyer(ctx, fw.ID, e.outsider); ok {
			t.Fatal("a trust outside the consortium sees the framework")
		}

		e.clk.Set(fw.TermEnd)
		transitions(t, s, 1)
		updates(t, db, "the framework agreement has expired", e.tom, e.nadia, e.sarah, e.james, e.carl)
		if ok, _ := s.VisibleToBuyer(ctx, fw.ID, e.rj1); !ok {
			t.Fatal("an expired framework is hidden from its buyers")
		}

		// The audit log holds no application content or justifications.
		var details []string
		db.Model(&audit.Entry{}).Pluck("detail", &details)
		for _, d := range details {
			if strings.Contains(d, "MERIDIAN") || strings.Contains(d, "NORTHGATE") || strings.Contains(d, "Evidence seen") || strings.Contains(d, "DSP Toolkit") {
				t.Fatalf("audit detail holds content: %s", d)
			}
		}
		var actions []string
		db.Model(&audit.Entry{}).Where("object_id = ? AND outcome = ?", fw.ID, audit.Success).Order("seq").Pluck("action", &actions)
		joined := strings.Join(actions, " ")
		for _, a := range []string{"framework.evaluators.set", "framework.applications.open", "framework.decide", "framework.standstill", "framework.state"} {
			if !strings.Contains(joined, a) {
				t.Errorf("no %s in the audit log: %s", a, joined)
			}
		}
	})
}

// TestOpenFrameworkUnderTheProcurementAct: any supplier may apply to an
// open framework and is opened; the standstill is eight working days; a
// cancellation is notified.
func TestOpenFrameworkUnderTheProcurementAct(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := evalSetup(t, db)
		s := e.s
		in := validInput("SLCSC-OPEN-2027")
		in.Regime, in.Kind = framework.RegimePA2023, framework.KindOpen
		fw, err := s.CreateFramework(ctx, e.tom, e.london, in)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Framework(ctx, fw.ID); got.LastState != framework.StateDraft {
			t.Fatalf("a new framework's last state is %q", got.LastState)
		}
		lot, err := s.AddLot(ctx, e.tom, fw.ID, framework.LotInput{Title: "Clinical portals", Min: 1, Max: 2, CallOff: framework.CallOffCompetition})
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := s.CopyRequirements(ctx, e.tom, lot.ID, e.cat.ID, 2, []string{"EPR-MED-001", "EPR-SEC-001"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetCriteria(ctx, e.tom, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 100}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, e.tom, fw.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.AssignEvaluators(ctx, e.tom, fw.ID, []string{e.chloe.UserID}); err != nil {
			t.Fatal(err)
		}
		e.clk.Set(fw.ApplicationsOpen)
		e.fw = fw
		e.apply(t, e.carl, lot, reqs, "CALDICOTT")
		e.clk.Set(fw.ApplicationDeadline)
		if n, err := e.openBoth(t); err != nil || n != 1 {
			t.Fatalf("opened %d (err %v): anyone may apply to an open framework", n, err)
		}
		apps, _ := s.Applications(ctx, fw.ID)
		if len(apps) != 1 || apps[0].SupplierOrgID != e.caldicott {
			t.Fatalf("applications %+v", apps)
		}
		e.score(t, e.chloe, apps[0].ID, marks(reqs, map[string]int{"EPR-MED-001": 3}))
		if err := s.Decide(ctx, e.tom, fw.ID, []framework.Decision{{ApplicationID: apps[0].ID, Appoint: true}}); err != nil {
			t.Fatal(err)
		}
		// The award notice is published on Friday 22 January 2027: day 1;
		// the 8th working day is Tuesday 2 February.
		e.clk.Set(at(2027, 1, 22, 10, 0))
		if err := s.StartStandstill(ctx, e.tom, fw.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Framework(ctx, fw.ID)
		if got.StandstillEnds == nil || !got.StandstillEnds.Equal(at(2027, 2, 3, 0, 0)) {
			t.Fatalf("standstill ends %v", got.StandstillEnds)
		}
		letters := domaintest.Notes(t, db, "award_letter")
		if len(letters) != 1 || letters[0].UserID != e.carl.UserID || letters[0].Data["Successful"] != true ||
			letters[0].Data["Reasons"] != "Your application scored 75.0% and was ranked 1 of 1 passing applications to this lot." {
			t.Fatalf("letters %+v", letters)
		}
		// Nobody looked while it opened and closed: draft -> standstill at
		// once, and only the state it is in now is notified.
		transitions(t, s, 1)
		updates(t, db, "the standstill period has started", e.tom, e.nadia, e.carl)
		if n := len(domaintest.Notes(t, db, "framework_update")); n != 3 {
			t.Fatalf("%d updates, want only the standstill's", n)
		}
		if err := s.Cancel(ctx, e.tom, fw.ID, "Requirements changed"); err != nil {
			t.Fatal(err)
		}
		transitions(t, s, 1)
		updates(t, db, "the framework agreement was cancelled", e.tom, e.nadia, e.carl)
		if _, err := s.Agreement(ctx, fw.ID); err != nil {
			t.Fatal(err)
		}
		if ag, _ := s.Agreement(ctx, fw.ID); ag.State != framework.StateCancelled || ag.LiveFrom != nil {
			t.Fatalf("cancelled agreement %+v", ag)
		}
	})
}

// transitions runs RecordTransitions and checks how many it recorded.
func transitions(t *testing.T, s *framework.Service, want int) {
	t.Helper()
	n, err := s.RecordTransitions(context.Background())
	if err != nil || n != want {
		t.Fatalf("RecordTransitions = %d (err %v), want %d", n, err, want)
	}
}

// updates checks that exactly these people got a framework update with
// the phrase.
func updates(t *testing.T, db *store.DB, phrase string, who ...audit.Actor) {
	t.Helper()
	var got []string
	for _, n := range domaintest.Notes(t, db, "framework_update") {
		if n.Data["Update"] == phrase {
			got = append(got, n.UserID)
		}
	}
	if len(got) != len(who) {
		t.Fatalf("%q sent to %v, want %d people", phrase, got, len(who))
	}
	for _, w := range who {
		found := false
		for _, g := range got {
			found = found || g == w.UserID
		}
		if !found {
			t.Fatalf("%q not sent to %s (sent to %v)", phrase, w.Label, got)
		}
	}
}

func auditCount(t *testing.T, db *store.DB, action, outcome string) int64 {
	t.Helper()
	q := db.Model(&audit.Entry{}).Where("action = ?", action)
	if outcome != "" {
		q = q.Where("outcome = ?", outcome)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTransitionsFirstSight: a framework from before transitions were
// recorded (last_state "") is recorded without a burst of notifications.
func TestTransitionsFirstSight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := evalSetup(t, db)
		e.invite(t, e.sarah, "sarah.lund@meridian.example.com")
		if err := e.s.Publish(ctx, e.tom, e.fw.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE frameworks SET last_state = '' WHERE id = ?", e.fw.ID).Error; err != nil {
			t.Fatal(err)
		}
		e.clk.Set(e.fw.ApplicationsOpen)
		transitions(t, e.s, 1)
		if n := len(domaintest.Notes(t, db, "framework_update")); n != 0 {
			t.Fatalf("%d updates on first sight", n)
		}
		got, _ := e.s.Framework(ctx, e.fw.ID)
		if got.LastState != framework.StateOpen {
			t.Fatalf("last state %q", got.LastState)
		}
		e.clk.Set(e.fw.ApplicationDeadline)
		transitions(t, e.s, 1)
		updates(t, db, "applications have closed and evaluation has started", e.tom, e.nadia, e.sarah)
		var detail string
		db.Model(&audit.Entry{}).Where("action = ?", "framework.state").Order("seq DESC").Limit(1).Pluck("detail", &detail)
		if !strings.Contains(detail, `"from":"open"`) || !strings.Contains(detail, `"to":"evaluation"`) {
			t.Fatalf("transition audited as %s", detail)
		}
	})
}
