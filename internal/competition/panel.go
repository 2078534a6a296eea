package competition

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

// FieldPanel names the evaluation panel's errors.
const FieldPanel = "panel"

// PanelCandidates lists the people who may sit on the evaluation panel:
// enabled users holding the evaluator role in one of the buying trusts or
// in the consortium that owns the framework, by name. Evaluators come from
// the buying side only; nobody else sees bids.
func (s *Service) PanelCandidates(ctx context.Context, competitionID string) ([]PanelMember, error) {
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return nil, err
	}
	return candidates(db, c)
}

func candidates(tx *gorm.DB, c *Competition) ([]PanelMember, error) {
	var f framework.Framework
	if err := tx.Where("id = ?", c.FrameworkID).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	var orgIDs []string
	if err := tx.Model(&Buyer{}).Where("competition_id = ?", c.ID).Pluck("organisation_id", &orgIDs).Error; err != nil {
		return nil, fmt.Errorf("read buyers: %w", err)
	}
	orgIDs = append(orgIDs, f.ConsortiumID)
	return framework.EvaluatorsAt(tx, orgIDs)
}

// panelChangeable refuses a change to the panel once the competition is
// cancelled or its bids have been opened: the evaluation rests on the
// panel that was in place when they were opened.
func panelChangeable(c *Competition) error {
	var v validate.Errors
	switch {
	case c.Status == StatusCancelled:
		v.Add(FieldPanel, "The competition has been cancelled, so its panel can no longer be changed")
	case c.OpenedAt != nil:
		v.Add(FieldPanel, "The bids have been opened, so the panel can no longer be changed")
	}
	return v.Err()
}

// AssignPanel makes userIDs the evaluation panel, replacing the previous
// one, while the competition is a draft or published and until its bids
// are opened. Only the lead trust may; everyone must be a candidate
// (PanelCandidates).
func (s *Service) AssignPanel(ctx context.Context, actor audit.Actor, competitionID string, userIDs []string) error {
	ids := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		if err := panelChangeable(c); err != nil {
			return err
		}
		cands, err := candidates(tx, c)
		if err != nil {
			return err
		}
		var v validate.Errors
		for _, id := range ids {
			if slices.ContainsFunc(cands, func(m PanelMember) bool { return m.UserID == id }) {
				continue
			}
			var u orgs.User
			if err := tx.Where("id = ?", id).Limit(1).Find(&u).Error; err != nil {
				return fmt.Errorf("read user: %w", err)
			}
			if u.ID == "" {
				v.Add(FieldPanel, "One of the people chosen is not a portal user")
			} else {
				v.Add(FieldPanel, fmt.Sprintf("%s is not an evaluator at one of the buying trusts or the consortium", u.DisplayName()))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		var before []string
		if err := tx.Model(&panelRow{}).Where("competition_id = ?", c.ID).Pluck("user_id", &before).Error; err != nil {
			return fmt.Errorf("read panel: %w", err)
		}
		del := tx.Where("competition_id = ?", c.ID)
		if len(ids) > 0 {
			del = del.Where("user_id NOT IN ?", ids)
		}
		if err := del.Delete(&panelRow{}).Error; err != nil {
			return fmt.Errorf("remove panel members: %w", err)
		}
		now := s.now()
		for _, id := range ids {
			row := panelRow{CompetitionID: c.ID, UserID: id, AssignedAt: now, AssignedBy: actor.UserID}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return fmt.Errorf("assign panel member: %w", err)
			}
		}
		return s.appendAudit(tx, actor, "competition.panel.set", c.ID, map[string]any{"panel": ids, "before": before})
	})
	return s.refused(ctx, actor, "competition.panel.set", competitionID, err)
}

// Panel lists the evaluation panel by name, with the organisation each
// member evaluates for.
func (s *Service) Panel(ctx context.Context, competitionID string) ([]PanelMember, error) {
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return nil, err
	}
	return panel(db, c)
}

func panel(tx *gorm.DB, c *Competition) ([]PanelMember, error) {
	cands, err := candidates(tx, c)
	if err != nil {
		return nil, err
	}
	return framework.AssignedEvaluators(tx, "competition_panel", "competition_id", c.ID, cands)
}

// OnPanel reports whether the user sits on the competition's panel and
// still may: still an evaluator at a buying trust or the consortium, and
// not disabled. A member whose role was taken away loses access at once.
func (s *Service) OnPanel(ctx context.Context, competitionID, userID string) (bool, error) {
	members, err := s.Panel(ctx, competitionID)
	if err != nil {
		return false, err
	}
	for _, m := range members {
		if m.UserID == userID && m.OrganisationID != "" {
			return true, nil
		}
	}
	return false, nil
}
