package competition

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of BuyerInput's errors.
const (
	FieldOrganisation = "organisation"
	FieldVolumes      = "volumes"
	FieldBeds         = "beds"
	FieldUsers        = "users"
	FieldSites        = "sites"
)

// FieldBuyer is the field name of a problem with one buying trust, such as
// one that is no longer an eligible buyer when the competition is
// published.
func FieldBuyer(orgID string) string { return "buyer-" + orgID }

// MaxVolumes is the longest description of volumes or sites, in characters.
const MaxVolumes = 2000

// BuyerInput is what a form submits to add a buying trust or change what it
// needs.
type BuyerInput struct {
	OrganisationID string
	Volumes        string
	Beds           *int
	Users          *int
	Sites          string
	Version        int // the buyer's version the editor saw; 0 when adding
}

func (in *BuyerInput) check() *validate.Errors {
	in.OrganisationID = strings.TrimSpace(in.OrganisationID)
	in.Volumes = strings.TrimSpace(in.Volumes)
	in.Sites = strings.TrimSpace(in.Sites)
	var v validate.Errors
	v.Required(FieldOrganisation, in.OrganisationID, "Choose the trust")
	if utf8.RuneCountInString(in.Volumes) > MaxVolumes {
		v.Add(FieldVolumes, "Volumes must be 2,000 characters or fewer")
	}
	if utf8.RuneCountInString(in.Sites) > MaxVolumes {
		v.Add(FieldSites, "Sites must be 2,000 characters or fewer")
	}
	if in.Beds != nil && *in.Beds < 0 {
		v.Add(FieldBeds, "The number of beds cannot be negative")
	}
	if in.Users != nil && *in.Users < 0 {
		v.Add(FieldUsers, "The number of users cannot be negative")
	}
	return &v
}

// AddBuyer adds a buying trust to a draft competition. It must be a trust
// that may buy under the framework (a consortium member or admitted by the
// consortium lead); each buying trust gets its own price schedule and, at
// the end, its own contract.
func (s *Service) AddBuyer(ctx context.Context, actor audit.Actor, competitionID string, in BuyerInput) (*Buyer, error) {
	if err := in.check().Err(); err != nil {
		return nil, err
	}
	c, err := s.Competition(ctx, competitionID)
	if err != nil {
		return nil, err
	}
	ok, err := s.eligible(ctx, c.FrameworkID, in.OrganisationID)
	if err != nil {
		return nil, err
	}
	var b *Buyer
	var org orgs.Organisation
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var v validate.Errors
		if err := tx.Where("id = ?", in.OrganisationID).First(&org).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				v.Add(FieldOrganisation, "Choose one of the trusts that can buy under the framework")
				return v.Err()
			}
			return fmt.Errorf("read organisation: %w", err)
		}
		if !ok[org.ID] {
			v.Add(FieldOrganisation, fmt.Sprintf("%s is not an eligible buyer under the framework, so it cannot buy in this competition", org.Name))
			return v.Err()
		}
		var n int64
		if err := tx.Model(&Buyer{}).Where("competition_id = ? AND organisation_id = ?", c.ID, org.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("check buyer: %w", err)
		}
		if n > 0 {
			v.Add(FieldOrganisation, fmt.Sprintf("%s is already one of the buying trusts", org.Name))
			return v.Err()
		}
		b = &Buyer{ID: newID(), CompetitionID: c.ID, OrganisationID: org.ID, Volumes: in.Volumes, Beds: in.Beds, Users: in.Users,
			Sites: in.Sites, Version: 1, AddedAt: s.now()}
		if err := tx.Omit("Organisation").Create(b).Error; err != nil {
			return fmt.Errorf("add buyer: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.buyer.add", c.ID, map[string]any{"organisation_id": org.ID, "organisation": org.Name})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, "competition.buyer.add", competitionID, err)
	}
	b.Organisation = org
	return b, nil
}

// UpdateBuyer changes a buying trust's volumes and sites while the
// competition is a draft. in.Version must be the buyer's version the editor
// saw, or store.ErrConflict is returned.
func (s *Service) UpdateBuyer(ctx context.Context, actor audit.Actor, competitionID string, in BuyerInput) error {
	if err := in.check().Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var b Buyer
		if err := tx.Where("competition_id = ? AND organisation_id = ?", c.ID, in.OrganisationID).First(&b).Error; err != nil {
			return notFound(err, "buyer")
		}
		res := tx.Model(&Buyer{}).Where("id = ? AND version = ?", b.ID, in.Version).Updates(map[string]any{
			"volumes": in.Volumes, "bed_count": in.Beds, "user_count": in.Users, "sites": in.Sites, "version": in.Version + 1,
		})
		if res.Error != nil {
			return fmt.Errorf("update buyer: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		return s.appendAudit(tx, actor, "competition.buyer.update", c.ID, map[string]any{"organisation_id": b.OrganisationID,
			"old": map[string]any{"volumes": b.Volumes, "beds": b.Beds, "users": b.Users, "sites": b.Sites},
			"new": map[string]any{"volumes": in.Volumes, "beds": in.Beds, "users": in.Users, "sites": in.Sites}})
	})
	return s.refused(ctx, actor, "competition.buyer.update", competitionID, err)
}

// RemoveBuyer removes a buying trust, and its price schedule, from a draft
// competition. The lead trust cannot be removed: it runs the competition.
func (s *Service) RemoveBuyer(ctx context.Context, actor audit.Actor, competitionID, orgID string) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, competitionID)
		if err != nil {
			return err
		}
		if orgID == c.LeadOrgID {
			var v validate.Errors
			v.Add(FieldOrganisation, "The lead trust runs the competition and is always one of the buying trusts")
			return v.Err()
		}
		if err := tx.Where("competition_id = ? AND organisation_id = ?", c.ID, orgID).Delete(&PriceItem{}).Error; err != nil {
			return fmt.Errorf("remove price schedule: %w", err)
		}
		res := tx.Where("competition_id = ? AND organisation_id = ?", c.ID, orgID).Delete(&Buyer{})
		if res.Error != nil {
			return fmt.Errorf("remove buyer: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("buyer: %w", store.ErrNotFound)
		}
		return s.appendAudit(tx, actor, "competition.buyer.remove", c.ID, map[string]any{"organisation_id": orgID})
	})
	return s.refused(ctx, actor, "competition.buyer.remove", competitionID, err)
}

// Buyers lists the buying trusts, the lead first and then by name, with
// their organisations.
func (s *Service) Buyers(ctx context.Context, competitionID string) ([]Buyer, error) {
	return buyers(s.DB.WithContext(ctx), competitionID)
}

// BuyersIn is Buyers for a competition the caller has just read, without
// reading it again.
func (s *Service) BuyersIn(ctx context.Context, c *Competition) ([]Buyer, error) {
	return buyersOf(s.DB.WithContext(ctx), c)
}

func buyers(db *gorm.DB, competitionID string) ([]Buyer, error) {
	c, err := load(db, competitionID)
	if err != nil {
		return nil, err
	}
	return buyersOf(db, c)
}

// buyersOf lists c's buying trusts, lead first, in one query with their
// organisations joined.
func buyersOf(db *gorm.DB, c *Competition) ([]Buyer, error) {
	var out []Buyer
	err := db.Joins("Organisation").
		Where("competition_buyers.competition_id = ?", c.ID).Order(`"Organisation".name, competition_buyers.id`).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list buyers: %w", err)
	}
	lead := make([]Buyer, 0, len(out))
	var rest []Buyer
	for _, b := range out {
		b.AddedAt = b.AddedAt.UTC()
		if b.OrganisationID == c.LeadOrgID {
			b.Lead = true
			lead = append(lead, b)
		} else {
			rest = append(rest, b)
		}
	}
	return append(lead, rest...), nil
}
