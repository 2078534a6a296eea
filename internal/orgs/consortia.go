package orgs

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/validate"
)

// Members lists a consortium's member trusts, past and present, by name.
func (s *Service) Members(ctx context.Context, consortiumID string) ([]ConsortiumMember, error) {
	var out []ConsortiumMember
	err := s.DB.WithContext(ctx).Preload("Trust").
		Joins("JOIN organisations t ON t.id = consortium_members.trust_id").
		Where("consortium_id = ?", consortiumID).Order("t.name, joined_on").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list consortium members: %w", err)
	}
	return out, nil
}

// AddMember records that a trust joined a consortium on joinedOn.
func (s *Service) AddMember(ctx context.Context, actor audit.Actor, consortiumID, trustID string, joinedOn time.Time) (*ConsortiumMember, error) {
	m := &ConsortiumMember{ID: newID(), ConsortiumID: consortiumID, TrustID: trustID, JoinedOn: day(joinedOn), CreatedAt: s.Clock.Now()}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var c Organisation
		if err := tx.Where("id = ? AND kind = ?", consortiumID, KindConsortium).First(&c).Error; err != nil {
			return notFound(err, "consortium")
		}
		var v validate.Errors
		var t Organisation
		if err := tx.Where("id = ? AND kind = ?", trustID, KindTrust).First(&t).Error; err != nil {
			v.Add("trustId", "Select a trust from the list")
		}
		if joinedOn.IsZero() {
			v.Add("joinedOn", "Enter the date the trust joined, for example 1 4 2015")
		}
		var current int64
		tx.Model(&ConsortiumMember{}).Where("consortium_id = ? AND trust_id = ? AND left_on IS NULL", consortiumID, trustID).Count(&current)
		if current > 0 {
			v.Add("trustId", t.Name+" is already a member of this consortium")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Create(m).Error; err != nil {
			return fmt.Errorf("add consortium member: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "consortium.member_add", ObjectType: "organisation", ObjectID: consortiumID,
			Detail: map[string]any{"trust_id": trustID, "joined_on": m.JoinedOn.Format(time.DateOnly)},
		})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// EndMember records that a member trust left the consortium on leftOn.
func (s *Service) EndMember(ctx context.Context, actor audit.Actor, consortiumID, memberID string, leftOn time.Time) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var m ConsortiumMember
		if err := tx.Where("id = ? AND consortium_id = ?", memberID, consortiumID).First(&m).Error; err != nil {
			return notFound(err, "consortium member")
		}
		var v validate.Errors
		switch {
		case leftOn.IsZero():
			v.Add("leftOn", "Enter the date the trust left, for example 31 3 2026")
		case m.LeftOn != nil:
			v.Add("leftOn", "This trust has already left the consortium")
		case day(leftOn).Before(m.JoinedOn):
			v.Add("leftOn", "The date the trust left must be on or after the date it joined ("+m.JoinedOn.Format("2 January 2006")+")")
		}
		if err := v.Err(); err != nil {
			return err
		}
		left := day(leftOn)
		if err := tx.Model(&m).Update("left_on", left).Error; err != nil {
			return fmt.Errorf("end consortium membership: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "consortium.member_end", ObjectType: "organisation", ObjectID: consortiumID,
			Detail: map[string]any{"trust_id": m.TrustID, "left_on": left.Format(time.DateOnly)},
		})
	})
}

// ConsortiaOf lists the consortia a trust currently belongs to or leads.
func (s *Service) ConsortiaOf(ctx context.Context, trustID string) ([]Organisation, error) {
	var out []Organisation
	err := s.DB.WithContext(ctx).
		Where("kind = ? AND (lead_organisation_id = ? OR id IN (SELECT consortium_id FROM consortium_members WHERE trust_id = ? AND left_on IS NULL))",
			KindConsortium, trustID, trustID).
		Order("name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list consortia of trust: %w", err)
	}
	return out, nil
}

// day truncates t to its calendar date in UTC.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
