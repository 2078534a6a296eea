package competition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Changes after publication (SECURITY.md, "Receiving tenders"): only a
// trust lead of the lead trust may make them, each with a reason; each is
// audited with its old and new values, recorded in competition_changes and
// notified to every invitee's users in the same transaction. A change to
// the terms (a requirement, a document) makes bids submitted before it need
// reconfirmation (TermsChangedSince); once any bid exists a deadline can be
// moved later but never earlier.

// FieldDocument names the errors of AddDocument.
const FieldDocument = "document"

// reconfirm ends every notice of a change to the terms.
const reconfirm = "If your organisation has already submitted a bid, confirm it again so that it answers the changed terms."

func checkReason(v *validate.Errors, reason, missing string) {
	if v.Required(FieldReason, reason, missing) && utf8.RuneCountInString(reason) > MaxReason {
		v.Add(FieldReason, "The reason must be 5,000 characters or fewer")
	}
}

// changeable refuses a change after publication unless the competition is
// published and still open for bids: before publication the set-up is
// edited directly, and after the deadline the terms bids answered are
// fixed.
func changeable(c *Competition, now time.Time) error {
	var v validate.Errors
	switch c.State(now) {
	case StateDraft:
		v.Add(FieldState, "The competition is a draft; change its set-up directly")
	case StateCancelled:
		v.Add(FieldState, "The competition has been cancelled")
	case StateClosed:
		v.Add(FieldState, "The submission deadline passed at "+uktime.Moment(c.SubmissionDeadline)+" (UK time), so the competition can no longer be changed")
	}
	return v.Err()
}

// record stores one change in tx.
func record(tx *gorm.DB, c *Competition, actor audit.Actor, kind, subject, oldValue, newValue, reason string, terms bool, now time.Time) error {
	ch := Change{ID: newID(), CompetitionID: c.ID, Kind: kind, Subject: subject, OldValue: oldValue, NewValue: newValue,
		Reason: reason, Terms: terms, ChangedAt: now, ChangedBy: actor.UserID}
	if err := tx.Create(&ch).Error; err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	return nil
}

// DeadlineChange moves the competition's dates after publication. Zero
// times leave a date as it is; Reason is required and sent to every
// invitee.
type DeadlineChange struct {
	SubmissionDeadline time.Time
	QuestionDeadline   time.Time
	EOIDeadline        time.Time
	EvaluationEnd      time.Time
	PlannedAward       time.Time
	Reason             string
	Version            int // the competition's version the editor saw
}

// deadlineField is one date DeadlineChange can move.
type deadlineField struct {
	field, what string
	// notice is how the deadline-change notice names the procurement;
	// "" for the buyer's own dates, which suppliers are not told of.
	notice   string
	old, new time.Time
}

// ExtendDeadline moves the competition's dates while it is open for bids,
// with a reason, audited and recorded, and tells every invitee's users of
// each deadline they work to that moved (a deadline-change notice, which is
// a legal notice). Every moved deadline must be in the future, the
// submission deadline at least the regime's minimum period after
// publication, and the dates in order. Once any bid has been submitted
// (sealed.Service.Count of the BidBox, counted under the competition's
// lock, which bid writes take as well) a deadline may only move later,
// never earlier; before that it may move either way.
func (s *Service) ExtendDeadline(ctx context.Context, actor audit.Actor, competitionID string, in DeadlineChange) error {
	in.Reason = strings.TrimSpace(in.Reason)
	var v validate.Errors
	checkReason(&v, in.Reason, "Say why the dates are changing; every supplier invited is told")
	if err := v.Err(); err != nil {
		return err
	}
	if s.Sealed == nil {
		return errors.New("competition: changing a deadline needs the sealed box service")
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := changeable(c, now); err != nil {
			return err
		}
		if c.Version != in.Version {
			return store.ErrConflict
		}
		// Counted under the competition's lock, which every bid write
		// takes too (bids.go), so no bid commits between the count and
		// this change.
		bids, err := s.bidsIn(ctx, tx, c)
		if err != nil {
			return err
		}
		old := timelineOf(c)
		t := old
		name := c.Name()
		fields := []*deadlineField{
			{field: FieldSubmissionDeadline, what: "submission deadline", notice: name, old: old.SubmissionDeadline, new: moment(in.SubmissionDeadline)},
			{field: FieldQuestionDeadline, what: "question deadline", notice: name + " (clarification questions)", old: old.QuestionDeadline, new: moment(in.QuestionDeadline)},
			{field: FieldEOIDeadline, what: "deadline for expressions of interest", notice: name + " (expressions of interest)", old: old.EOIDeadline, new: moment(in.EOIDeadline)},
			{field: FieldEvaluationEnd, what: "end of evaluation", old: old.EvaluationEnd, new: moment(in.EvaluationEnd)},
			{field: FieldPlannedAward, what: "planned award date", old: old.PlannedAward, new: moment(in.PlannedAward)},
		}
		var moved []*deadlineField
		for _, d := range fields {
			if d.new.IsZero() || d.new.Equal(d.old) {
				continue
			}
			if d.field == FieldEOIDeadline && !c.ExpressionOfInterest {
				v.Add(FieldEOIDeadline, "This competition has no expression-of-interest step")
				continue
			}
			moved = append(moved, d)
			if d.notice == "" {
				continue
			}
			checkFuture(&v, d.field, d.what, d.new, now)
			if bids > 0 && d.new.Before(d.old) {
				v.Add(d.field, fmt.Sprintf("Bids have been submitted, so the %s can only move later than %s (UK time), never earlier", d.what, uktime.Moment(d.old)))
			}
		}
		if len(moved) == 0 && len(v.List) == 0 {
			v.Add(FieldSubmissionDeadline, "Enter the new date; the dates entered are the ones the competition already has")
		}
		for _, d := range moved {
			switch d.field {
			case FieldSubmissionDeadline:
				t.SubmissionDeadline = d.new
			case FieldQuestionDeadline:
				t.QuestionDeadline = d.new
			case FieldEOIDeadline:
				t.EOIDeadline = d.new
			case FieldEvaluationEnd:
				t.EvaluationEnd = d.new
			case FieldPlannedAward:
				t.PlannedAward = d.new
			}
		}
		if !v.Has(FieldSubmissionDeadline) && !t.SubmissionDeadline.Equal(old.SubmissionDeadline) {
			s.checkMinimum(&v, c.Regime, t.SubmissionDeadline, *c.PublishedAt)
		}
		checkOrder(&v, t, c.ExpressionOfInterest)
		if err := v.Err(); err != nil {
			return err
		}

		updates := map[string]any{
			"submission_deadline": t.SubmissionDeadline, "question_deadline": t.QuestionDeadline,
			"evaluation_end": t.EvaluationEnd, "planned_award": t.PlannedAward,
			"version": in.Version + 1, "updated_at": now,
		}
		if c.ExpressionOfInterest {
			updates["eoi_deadline"] = t.EOIDeadline
		}
		res := tx.Model(&Competition{}).Where("id = ? AND version = ?", c.ID, in.Version).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("change deadlines: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		users, err := inviteeUsers(tx, c.ID)
		if err != nil {
			return err
		}
		oldValues, newValues := map[string]any{}, map[string]any{}
		sent := 0
		for _, d := range moved {
			oldValues[d.field], newValues[d.field] = d.old.Format(time.RFC3339), d.new.Format(time.RFC3339)
			if err := record(tx, c, actor, ChangeDeadline, d.field, d.old.Format(time.RFC3339), d.new.Format(time.RFC3339), in.Reason, false, now); err != nil {
				return err
			}
			if d.notice == "" {
				continue
			}
			data := map[string]any{"Procurement": d.notice, "OldDeadline": d.old, "NewDeadline": d.new, "Reason": in.Reason}
			n, err := s.notifyAll(ctx, tx, users, deadlineKind, data, SupplierPath(c.ID))
			if err != nil {
				return err
			}
			sent += n
		}
		return s.appendAudit(tx, actor, "competition.deadline.change", c.ID, map[string]any{
			"old": oldValues, "new": newValues, "reason": in.Reason, "bids_existed": bids > 0, "notified": sent,
		})
	})
	return s.refused(ctx, actor, "competition.deadline.change", competitionID, err)
}

// RequirementChange changes the terms after publication: one or more
// requirements refined at once (several, so that weight can move from one
// to another and still add up to 100), with the reason.
type RequirementChange struct {
	Edits  []RequirementEdit
	Reason string
}

// requirementValue is how a requirement's changeable part is recorded.
func requirementValue(text string, weight int) string {
	b, _ := json.Marshal(map[string]any{"text": text, "weight": weight})
	return string(b)
}

// ChangeRequirement refines requirements of a published competition that
// is still open for bids. It is a change to the terms: it is recorded (so
// that bids submitted before it need reconfirmation, TermsChangedSince),
// audited with the old and new wording and weight, and every invitee's
// users are told what changed and why. Edits are keyed by
// FieldForRequirement; each needs the requirement's version the editor
// saw, or store.ErrConflict is returned. Nothing is saved in part.
func (s *Service) ChangeRequirement(ctx context.Context, actor audit.Actor, competitionID string, in RequirementChange) error {
	in.Reason = strings.TrimSpace(in.Reason)
	var v validate.Errors
	checkReason(&v, in.Reason, "Say why the requirement is changing; every supplier invited is told")
	if len(in.Edits) == 0 {
		v.Add(FieldRequirements, "Choose a requirement to change")
	}
	for i := range in.Edits {
		e := &in.Edits[i]
		e.Text = strings.TrimSpace(e.Text)
		checkText(&v, FieldForRequirement(e.RequirementID, FieldRequirementText), e.Text)
		checkWeight(&v, FieldForRequirement(e.RequirementID, FieldRequirementWeight), e.Weight)
	}
	if err := v.Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := changeable(c, now); err != nil {
			return err
		}
		reqs, err := requirements(tx, c.ID)
		if err != nil {
			return err
		}
		index := map[string]int{}
		for i, r := range reqs {
			index[r.ID] = i
		}
		before := make(map[string]Requirement, len(in.Edits))
		for _, e := range in.Edits {
			i, ok := index[e.RequirementID]
			switch {
			case !ok:
				v.Add(FieldRequirements, "One of the requirements is not part of this competition")
				continue
			case before[e.RequirementID].ID != "":
				v.Add(FieldForRequirement(e.RequirementID, FieldRequirementText), fmt.Sprintf("%s is changed twice; give one change", reqs[i].Reference))
				continue
			case reqs[i].Text == e.Text && reqs[i].Weight == e.Weight:
				v.Add(FieldForRequirement(e.RequirementID, FieldRequirementText), fmt.Sprintf("Nothing about %s has changed", reqs[i].Reference))
			}
			before[e.RequirementID] = reqs[i]
			reqs[i].Text, reqs[i].Weight = e.Text, e.Weight
		}
		checkWeightTotal(&v, c.QualityWeight, reqs)
		if err := v.Err(); err != nil {
			return err
		}
		var told []string
		var changed []map[string]any
		for _, e := range in.Edits {
			old := before[e.RequirementID]
			if err := saveEdit(tx, e); err != nil {
				return err
			}
			if err := record(tx, c, actor, ChangeRequirement, old.Reference, requirementValue(old.Text, old.Weight),
				requirementValue(e.Text, e.Weight), in.Reason, true, now); err != nil {
				return err
			}
			if old.Text != e.Text {
				told = append(told, fmt.Sprintf("%s now reads: %s", old.Reference, e.Text))
			}
			if old.Weight != e.Weight {
				told = append(told, fmt.Sprintf("The weight of %s changed from %d to %d.", old.Reference, old.Weight, e.Weight))
			}
			changed = append(changed, map[string]any{"requirement_id": old.ID, "reference": old.Reference,
				"old": map[string]any{"text": old.Text, "weight": old.Weight}, "new": map[string]any{"text": e.Text, "weight": e.Weight}})
		}
		answer := "The buyer changed the requirements.\n\n" + strings.Join(told, "\n\n") + "\n\nReason: " + in.Reason + "\n\n" + reconfirm
		sent, err := s.notifyInvitees(ctx, tx, c, answer)
		if err != nil {
			return err
		}
		return s.appendAudit(tx, actor, "competition.requirement.change", c.ID, map[string]any{
			"changes": changed, "reason": in.Reason, "terms": true, "notified": sent,
		})
	})
	return s.refused(ctx, actor, "competition.requirement.change", competitionID, err)
}

// documentRow is a document of the documents store as this package reads
// it.
type documentRow struct {
	ID             string
	OrganisationID string
	Name           string
	SHA256         string `gorm:"column:sha256"`
}

// AddDocument adds a document from the documents store to the tender pack.
// It must be one of the lead trust's documents. Before publication it is
// part of the set-up; after it, while bids are still open, it is a change
// to the terms with a required reason: recorded, audited and told to every
// invitee's users.
func (s *Service) AddDocument(ctx context.Context, actor audit.Actor, competitionID, documentID, reason string) error {
	reason = strings.TrimSpace(reason)
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		now := s.now()
		published := c.Status != StatusDraft
		if published {
			if err := changeable(c, now); err != nil {
				return err
			}
		}
		var v validate.Errors
		if published {
			checkReason(&v, reason, "Say why the document is being added; every supplier invited is told")
		} else if utf8.RuneCountInString(reason) > MaxReason {
			v.Add(FieldReason, "The reason must be 5,000 characters or fewer")
		}
		var doc documentRow
		if err := tx.Table("documents").Select("id, organisation_id, name, sha256").Where("id = ?", documentID).Limit(1).Scan(&doc).Error; err != nil {
			return fmt.Errorf("read document: %w", err)
		}
		// Another organisation's document is refused as if it did not
		// exist: its name is not the lead's to learn.
		if doc.ID == "" || doc.OrganisationID != c.LeadOrgID {
			v.Add(FieldDocument, "Choose one of your trust's documents")
		} else {
			var n int64
			if err := tx.Model(&Document{}).Where("competition_id = ? AND document_id = ?", c.ID, doc.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("check document: %w", err)
			}
			if n > 0 {
				v.Add(FieldDocument, fmt.Sprintf("%s is already part of the tender pack", doc.Name))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Create(&Document{CompetitionID: c.ID, DocumentID: doc.ID, Reason: reason, AddedAt: now, AddedBy: actor.UserID}).Error; err != nil {
			return fmt.Errorf("add document: %w", err)
		}
		sent := 0
		if published {
			if err := record(tx, c, actor, ChangeDocument, doc.ID, "", doc.Name, reason, true, now); err != nil {
				return err
			}
			answer := "The buyer added a document to the tender pack: " + doc.Name + ".\n\nReason: " + reason + "\n\n" + reconfirm
			if sent, err = s.notifyInvitees(ctx, tx, c, answer); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, actor, "competition.document.add", c.ID, map[string]any{
			"document_id": doc.ID, "name": doc.Name, "sha256": doc.SHA256, "reason": reason, "terms": published, "notified": sent,
		})
	})
	return s.refused(ctx, actor, "competition.document.add", competitionID, err)
}

// Documents lists the tender pack's documents in the order they were added,
// with their names.
func (s *Service) Documents(ctx context.Context, competitionID string) ([]Document, error) {
	var rows []struct {
		Document
		DocName string
	}
	err := s.DB.WithContext(ctx).Table("competition_documents cd").
		Select("cd.competition_id, cd.document_id, cd.reason, cd.added_at, cd.added_by, d.name AS doc_name").
		Joins("JOIN documents d ON d.id = cd.document_id").
		Where("cd.competition_id = ?", competitionID).Order("cd.added_at, cd.document_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	out := make([]Document, len(rows))
	for i, r := range rows {
		out[i] = r.Document
		out[i].Name = r.DocName
		out[i].AddedAt = r.AddedAt.UTC()
	}
	return out, nil
}

// Changes lists the changes made after publication, oldest first (those
// made together by subject).
func (s *Service) Changes(ctx context.Context, competitionID string) ([]Change, error) {
	var out []Change
	if err := s.DB.WithContext(ctx).Where("competition_id = ?", competitionID).Order("changed_at, kind, subject, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	for i := range out {
		out[i].ChangedAt = out[i].ChangedAt.UTC()
	}
	return out, nil
}

// TermsChangedSince reports whether the terms changed after t: a bid
// submitted at t, before the latest change to the terms, needs
// reconfirmation.
func (s *Service) TermsChangedSince(ctx context.Context, competitionID string, t time.Time) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&Change{}).
		Where("competition_id = ? AND terms = ? AND changed_at > ?", competitionID, true, t.UTC()).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check terms changes: %w", err)
	}
	return n > 0, nil
}
