package evaluation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/validate"
)

// sectionRow restricts a panel member to one section.
type sectionRow struct {
	CompetitionID string `gorm:"primaryKey"`
	UserID        string `gorm:"primaryKey"`
	SectionTitle  string `gorm:"primaryKey"`
	SetAt         time.Time
	SetBy         string
}

func (sectionRow) TableName() string { return "competition_panel_sections" }

// PanelMember is a member of the evaluation panel with the sections they
// evaluate.
type PanelMember struct {
	competition.PanelMember
	// Sections are the requirement sections the member evaluates; empty
	// means every section.
	Sections []string
}

// Panel lists the panel by name with each member's sections; a member no
// longer entitled to sit on it has no organisation and scores nothing.
func (s *Service) Panel(ctx context.Context, competitionID string) ([]PanelMember, error) {
	db := s.DB.WithContext(ctx)
	b, err := read(db, competitionID)
	if err != nil {
		return nil, err
	}
	members, err := competition.PanelOf(db, b.c)
	if err != nil {
		return nil, err
	}
	out := make([]PanelMember, len(members))
	for i, m := range members {
		out[i] = PanelMember{PanelMember: m, Sections: b.sections[m.UserID]}
	}
	return out, nil
}

// Sections lists the competition's requirement sections in the order
// they first appear.
func (s *Service) Sections(ctx context.Context, competitionID string) ([]string, error) {
	reqs, err := competition.RequirementsOf(s.DB.WithContext(ctx), competitionID)
	if err != nil {
		return nil, err
	}
	return sectionsOf(reqs), nil
}

func sectionsOf(reqs []competition.Requirement) []string {
	var out []string
	for _, r := range reqs {
		if !slices.Contains(out, r.SectionTitle) {
			out = append(out, r.SectionTitle)
		}
	}
	return out
}

// sectionName is how a message names a section; requirements added
// without one are in the untitled section.
func sectionName(title string) string {
	if title == "" {
		return "the requirements without a section"
	}
	return "section " + title
}

// SetSections restricts a panel member to the named requirement sections,
// or, with none, lets them evaluate every section. Only a trust lead of
// the lead trust may (ErrForbidden, audited), for a member of the panel,
// until the first marks for any bid are submitted: marks already
// submitted rest on the sections in place when they were made. Every
// section must stay covered by at least one member still entitled to sit
// on the panel. One transaction, audited.
func (s *Service) SetSections(ctx context.Context, actor audit.Actor, competitionID, userID string, sections []string) error {
	const action = "evaluation.sections.set"
	var want []string
	for _, t := range sections {
		if t = strings.TrimSpace(t); !slices.Contains(want, t) {
			want = append(want, t)
		}
	}
	slices.Sort(want)
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockAsLead(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var v validate.Errors
		var submitted int64
		if err := tx.Table("competition_evaluations e").Joins("JOIN competition_bids b ON b.id = e.bid_id").
			Where("b.competition_id = ?", b.c.ID).Count(&submitted).Error; err != nil {
			return fmt.Errorf("count submitted marks: %w", err)
		}
		switch {
		case b.c.Status == competition.StatusCancelled:
			v.Add(FieldSections, "The competition has been cancelled, so its panel can no longer be changed")
		case submitted > 0:
			v.Add(FieldSections, "Marks have been submitted, so the sections each member evaluates can no longer change")
		}
		if err := v.Err(); err != nil {
			return err
		}
		members, err := competition.PanelOf(tx, b.c)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(members, func(m competition.PanelMember) bool { return m.UserID == userID })
		if i < 0 {
			v.Add(FieldSections, "This person is not on the evaluation panel; add them to the panel first")
			return v.Err()
		}
		name := members[i].Name
		known := sectionsOf(b.reqs)
		for _, t := range want {
			if !slices.Contains(known, t) {
				v.Add(FieldSections, fmt.Sprintf("%q is not a section of this competition's requirements; choose from the sections listed", t))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		// Every section must still have someone to evaluate it.
		b.sections[userID] = want
		for _, t := range known {
			if !slices.ContainsFunc(b.panel, func(m competition.PanelMember) bool {
				return !b.restricted(m.UserID) || slices.Contains(b.sections[m.UserID], t)
			}) {
				v.Add(FieldSections, fmt.Sprintf("Nobody on the panel would evaluate %s; give it to %s or to another member", sectionName(t), name))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Where("competition_id = ? AND user_id = ?", b.c.ID, userID).Delete(&sectionRow{}).Error; err != nil {
			return fmt.Errorf("clear sections: %w", err)
		}
		now := s.now()
		for _, t := range want {
			if err := tx.Create(&sectionRow{CompetitionID: b.c.ID, UserID: userID, SectionTitle: t, SetAt: now, SetBy: actor.UserID}).Error; err != nil {
				return fmt.Errorf("set section: %w", err)
			}
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "competition", ObjectID: b.c.ID,
			Detail: map[string]any{"user_id": userID, "sections": want}})
	})
	return s.refused(ctx, actor, action, "competition", competitionID, err)
}
