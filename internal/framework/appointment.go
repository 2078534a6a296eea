package framework

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/standstill"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// FieldDecisions names field errors about the decisions as a whole; errors
// about one application are keyed by its ID, about one lot by FieldLot.
const FieldDecisions = "decisions"

// MaxReason is the longest reason for a decision, in characters.
const MaxReason = 5000

// FieldAppoint and FieldDecisionReason name the form fields of the
// decision on one application: whether to appoint, and why.
func FieldAppoint(applicationID string) string { return "appoint-" + applicationID }

// FieldDecisionReason is the field of the reason for a decision.
func FieldDecisionReason(applicationID string) string { return "reason-" + applicationID }

// Decision is the lead's decision on one application: appoint the supplier
// to the lot or not, and why. The reason is sent in the award letter; it is
// required when the supplier is not appointed.
type Decision struct {
	ApplicationID string
	Appoint       bool
	Reason        string
}

// decidable refuses unless decisions may be made or confirmed now: the
// applications were opened and the framework is still in evaluation.
func decidable(f *Framework, now time.Time) error {
	var v validate.Errors
	switch st := f.State(now); {
	case st != StateEvaluation:
		v.Add(FieldState, fmt.Sprintf("Decisions follow evaluation; the framework is %s", strings.ToLower(StateLabel(st))))
	case f.OpenedAt == nil:
		v.Add(FieldState, "Open the applications and evaluate them first")
	}
	return v.Err()
}

// lotLabel names a lot in messages: "lot 1 (Acute EPR)".
// decidableLots checks decisions may be made now and reads the lots.
func decidableLots(tx *gorm.DB, f *Framework, now time.Time) ([]Lot, error) {
	if err := decidable(f, now); err != nil {
		return nil, err
	}
	var lots []Lot
	if err := tx.Where("framework_id = ?", f.ID).Order("number").Find(&lots).Error; err != nil {
		return nil, fmt.Errorf("read lots: %w", err)
	}
	return lots, nil
}

func lotLabel(l Lot) string { return fmt.Sprintf("lot %d (%s)", l.Number, l.Title) }

// Decide records whether each opened application is appointed to its lot
// or unsuccessful, replacing earlier decisions until the standstill starts.
// Every application must be decided at once, and nothing is saved unless
// all is well: the evaluation must be complete (every assigned evaluator
// submitted for every application), a failed application cannot be
// appointed, a lot cannot take more suppliers than its maximum, and an
// unsuccessful supplier must be told why. Only the consortium lead decides.
func (s *Service) Decide(ctx context.Context, actor audit.Actor, frameworkID string, decisions []Decision) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockAsLead(tx, actor, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		lots, err := decidableLots(tx, f, now)
		if err != nil {
			return err
		}
		results := map[string]Result{}
		for _, l := range lots {
			rs, err := lotResults(tx, l.ID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				results[r.Application.ID] = r
			}
		}
		var v validate.Errors
		if len(results) == 0 {
			v.Add(FieldDecisions, "There are no applications to decide")
			return v.Err()
		}
		byApp := map[string]Decision{}
		for _, d := range decisions {
			d.Reason = strings.TrimSpace(d.Reason)
			switch _, known := results[d.ApplicationID]; {
			case !known:
				v.Add(FieldDecisions, "One of the decisions is for an application that is not part of this framework")
			case byApp[d.ApplicationID].ApplicationID != "":
				v.Add(FieldAppoint(d.ApplicationID), "This application is decided twice; give one decision")
			default:
				byApp[d.ApplicationID] = d
			}
		}
		appointed := map[string]int{}
		for _, l := range lots {
			for _, r := range orderedResults(results, l.ID) {
				a := r.Application
				who := fmt.Sprintf("%s's application to %s", a.Supplier.Name, lotLabel(l))
				d, ok := byApp[a.ID]
				switch {
				case !r.Complete():
					v.Add(FieldAppoint(a.ID), fmt.Sprintf("The evaluation of %s is not finished: %d of %d evaluators have submitted their scores", who, r.Submitted, r.Evaluators))
				case !ok:
					v.Add(FieldAppoint(a.ID), fmt.Sprintf("Decide whether to appoint %s to %s", a.Supplier.Name, lotLabel(l)))
				case d.Appoint && !r.Passed:
					v.Add(FieldAppoint(a.ID), fmt.Sprintf("%s cannot be appointed to %s: it failed %s", a.Supplier.Name, lotLabel(l), references(r.Failed)))
				case !d.Appoint && d.Reason == "":
					v.Add(FieldDecisionReason(a.ID), fmt.Sprintf("Say why %s is not appointed to %s; the reason goes in its award letter", a.Supplier.Name, lotLabel(l)))
				case utf8.RuneCountInString(d.Reason) > MaxReason:
					v.Add(FieldDecisionReason(a.ID), fmt.Sprintf("The reason for %s must be 5,000 characters or fewer", who))
				}
				if ok && d.Appoint {
					appointed[l.ID]++
				}
			}
			if n := appointed[l.ID]; n > l.MaxSuppliers {
				v.Add(FieldLot(l.Number), fmt.Sprintf("Lot %d (%s) can have at most %s; you chose to appoint %d", l.Number, l.Title, suppliers(l.MaxSuppliers), n))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		counts := map[string]int{ApplicationAppointed: 0, ApplicationUnsuccessful: 0}
		for id, d := range byApp {
			status := ApplicationUnsuccessful
			if d.Appoint {
				status = ApplicationAppointed
			}
			counts[status]++
			if err := tx.Model(&Application{}).Where("id = ?", id).Updates(map[string]any{
				"status": status, "reason": d.Reason, "decided_at": now, "decided_by": actor.UserID,
			}).Error; err != nil {
				return fmt.Errorf("record decision: %w", err)
			}
		}
		perLot := map[string]int{}
		for _, l := range lots {
			perLot[fmt.Sprintf("lot%d", l.Number)] = appointed[l.ID]
		}
		// Reasons go to the suppliers in their letters, not into the log.
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.decide", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"appointed": counts[ApplicationAppointed], "unsuccessful": counts[ApplicationUnsuccessful], "appointed_per_lot": perLot}})
	})
	return s.refused(ctx, actor, "framework.decide", "framework", frameworkID, err)
}

// orderedResults is a lot's results from the map in their ranked order.
func orderedResults(all map[string]Result, lotID string) []Result {
	var out []Result
	for _, r := range all {
		if r.Application.LotID == lotID {
			out = append(out, r)
		}
	}
	rank(out)
	return out
}

// suppliers counts suppliers: "1 supplier", "3 suppliers".
func suppliers(n int) string {
	if n == 1 {
		return "1 supplier"
	}
	return fmt.Sprintf("%d suppliers", n)
}

// references lists requirements' references: "EPR-MED-001 and EPR-MED-002".
func references(reqs []LotRequirement) string {
	refs := make([]string, len(reqs))
	for i, r := range reqs {
		refs[i] = r.Reference
	}
	if len(refs) <= 1 {
		return strings.Join(refs, "")
	}
	return strings.Join(refs[:len(refs)-1], ", ") + " and " + refs[len(refs)-1]
}

// StartStandstill confirms the decisions and notifies them: the framework
// enters standstill, ending when the framework's regime says
// (standstill.End from now, when the letters go), and every supplier user
// of every opened application gets an award letter for it, all in one
// transaction. It refuses until every application is decided and at least
// one supplier is appointed. The appointed suppliers then make up the
// framework agreement (Agreement), which is live once the standstill ends.
func (s *Service) StartStandstill(ctx context.Context, actor audit.Actor, frameworkID string) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		f, err := s.lockAsLead(tx, actor, frameworkID)
		if err != nil {
			return err
		}
		now := s.now()
		lots, err := decidableLots(tx, f, now)
		if err != nil {
			return err
		}
		var v validate.Errors
		var all []Result
		appointed := 0
		for _, l := range lots {
			rs, err := lotResults(tx, l.ID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				switch a := r.Application; {
				case !a.Decided():
					v.Add(FieldAppoint(a.ID), fmt.Sprintf("Decide whether to appoint %s to %s", a.Supplier.Name, lotLabel(l)))
				case a.Status == ApplicationAppointed:
					appointed++
				}
			}
			all = append(all, rs...)
		}
		if len(v.List) == 0 && appointed == 0 {
			v.Add(FieldDecisions, "Appoint at least one supplier before starting the standstill period, or cancel the framework")
		}
		ends := standstill.End(f.Regime, now)
		if ends.IsZero() {
			return fmt.Errorf("framework %s: no standstill rule for regime %q", f.Reference, f.Regime)
		}
		if !ends.Before(f.TermEnd) {
			v.Add(FieldStandstill, "The standstill period would end at "+uktime.Moment(ends)+", after the term ends, so the framework could never go live; cancel it and set it up again with a later term")
		}
		if err := v.Err(); err != nil {
			return err
		}
		res := tx.Model(&Framework{}).Where("id = ? AND status = ?", frameworkID, StatusPublished).Updates(map[string]any{
			"status": StatusStandstill, "standstill_ends": ends, "standstill_started_at": now, "version": gorm.Expr("version + 1"), "updated_at": now,
		})
		if res.Error != nil {
			return fmt.Errorf("start standstill: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		letters, err := s.sendAwardLetters(ctx, tx, f, lots, all, ends)
		if err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.standstill", ObjectType: "framework", ObjectID: frameworkID,
			Detail: map[string]any{"regime": f.Regime, "standstill_ends": ends.Format(time.RFC3339), "appointed": appointed,
				"applications": len(all), "letters": letters}})
	})
	return s.refused(ctx, actor, "framework.standstill", "framework", frameworkID, err)
}

// sendAwardLetters sends each application's award letter to every supplier
// user of its supplier and returns how many were sent.
func (s *Service) sendAwardLetters(ctx context.Context, tx *gorm.DB, f *Framework, lots []Lot, all []Result, ends time.Time) (int, error) {
	lotByID := map[string]Lot{}
	passing := map[string]int{}
	for _, l := range lots {
		lotByID[l.ID] = l
	}
	for _, r := range all {
		if r.Rank > 0 {
			passing[r.Application.LotID]++
		}
	}
	// The appointed suppliers of each lot with their scores, for every
	// letter of that lot.
	appointed := map[string][]string{}
	for _, r := range all {
		if r.Application.Status == ApplicationAppointed {
			appointed[r.Application.LotID] = append(appointed[r.Application.LotID], fmt.Sprintf("%s (%.1f%%)", r.Application.Supplier.Name, r.Score))
		}
	}
	sent := 0
	for _, r := range all {
		a, l := r.Application, lotByID[r.Application.LotID]
		users, err := orgs.UsersWithRole(tx, authz.SupplierUser, a.SupplierOrgID)
		if err != nil {
			return 0, err
		}
		data := map[string]any{
			"Procurement":    fmt.Sprintf("%s %s, lot %d: %s", f.Reference, f.Title, l.Number, l.Title),
			"Organisation":   a.Supplier.Name,
			"Successful":     a.Status == ApplicationAppointed,
			"Reasons":        letterReasons(r, passing[a.LotID], appointed[a.LotID]),
			"StandstillEnds": ends,
		}
		if err := s.notifyAll(ctx, tx, users, awardLetterKind, data, SupplierPath(f.ID)); err != nil {
			return 0, fmt.Errorf("send award letter: %w", err)
		}
		sent += len(users)
	}
	return sent, nil
}

// letterReasons is what an award letter says about the decision. PCR 2015
// regulation 86 asks for the reasons, the names of the successful suppliers
// and the characteristics and relative advantages of their tenders; the
// Procurement Act's assessment summaries for the supplier's own assessment
// beside the successful one. So every letter gives the supplier's own
// result (its score and rank, or the requirements it failed), the
// appointed suppliers of the lot with their scores, and the lead's reason.
func letterReasons(r Result, passing int, appointed []string) string {
	a := r.Application
	var b strings.Builder
	switch {
	case r.Rank > 0:
		fmt.Fprintf(&b, "Your application scored %.1f%% and was ranked %d of %d passing applications to this lot.", r.Score, r.Rank, passing)
	case len(r.Failed) > 0:
		fmt.Fprintf(&b, "Your application did not pass %s.", references(r.Failed))
	}
	if a.Status != ApplicationAppointed && len(appointed) > 0 {
		fmt.Fprintf(&b, " Appointed to this lot: %s.", strings.Join(appointed, ", "))
	}
	if a.Reason != "" {
		fmt.Fprintf(&b, "\n\n%s", a.Reason)
	}
	return strings.TrimSpace(b.String())
}
