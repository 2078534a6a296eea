package competition

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of PriceItemInput's errors.
const (
	FieldItemName     = "name"
	FieldItemUnit     = "unit"
	FieldItemQuantity = "quantity"
)

// FieldPriceSchedule is the field name of a problem with one buying
// trust's price schedule as a whole, such as having no items.
func FieldPriceSchedule(orgID string) string { return "prices-" + orgID }

// Limits on a price item's words, in characters.
const (
	MaxItemName = 200
	MaxItemUnit = 50
)

// PriceItemInput is what a form submits to add or change a line of a
// buying trust's price schedule: what is priced ("Hosting per year"), per
// what unit ("year") and how many (5). Suppliers will give a price in pence
// per unit; the quantity is a whole number so that price times quantity is
// exact.
type PriceItemInput struct {
	OrganisationID string // the buying trust; ignored when changing an item
	Name           string
	Unit           string
	Quantity       int64
	Version        int // the item's version the editor saw; 0 when adding
}

func (in *PriceItemInput) check() *validate.Errors {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.Unit = strings.Join(strings.Fields(in.Unit), " ")
	var v validate.Errors
	if v.Required(FieldItemName, in.Name, "Enter what is to be priced, such as Licences or Hosting per year") && utf8.RuneCountInString(in.Name) > MaxItemName {
		v.Add(FieldItemName, "The item's name must be 200 characters or fewer")
	}
	if v.Required(FieldItemUnit, in.Unit, "Enter the unit it is priced per, such as licence, year or one-off") && utf8.RuneCountInString(in.Unit) > MaxItemUnit {
		v.Add(FieldItemUnit, "The unit must be 50 characters or fewer")
	}
	if in.Quantity <= 0 {
		v.Add(FieldItemQuantity, "The quantity must be a whole number greater than 0")
	}
	return &v
}

// nameTaken reports whether the trust's schedule has another item called
// name, ignoring case.
func nameTaken(tx *gorm.DB, competitionID, orgID, name, selfID string) (bool, error) {
	var n int64
	q := tx.Model(&PriceItem{}).Where("competition_id = ? AND organisation_id = ? AND LOWER(name) = LOWER(?)", competitionID, orgID, name)
	if selfID != "" {
		q = q.Where("id <> ?", selfID)
	}
	if err := q.Count(&n).Error; err != nil {
		return false, fmt.Errorf("check item name: %w", err)
	}
	return n > 0, nil
}

func nameTakenError(tx *gorm.DB, orgID, name string) error {
	org, err := orgName(tx, orgID)
	if err != nil {
		return err
	}
	var v validate.Errors
	v.Add(FieldItemName, fmt.Sprintf("The price schedule of %s already has an item called %s", org, name))
	return v.Err()
}

// AddPriceItem adds a line to a buying trust's price schedule in a draft
// competition, after its other lines.
func (s *Service) AddPriceItem(ctx context.Context, actor audit.Actor, competitionID string, in PriceItemInput) (*PriceItem, error) {
	if err := in.check().Err(); err != nil {
		return nil, err
	}
	var item *PriceItem
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lockDraft(tx, actor, competitionID)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&Buyer{}).Where("competition_id = ? AND organisation_id = ?", c.ID, in.OrganisationID).Count(&n).Error; err != nil {
			return fmt.Errorf("check buyer: %w", err)
		}
		if n == 0 {
			var v validate.Errors
			v.Add(FieldOrganisation, "Add the trust as a buying trust before giving it a price schedule")
			return v.Err()
		}
		if taken, err := nameTaken(tx, c.ID, in.OrganisationID, in.Name, ""); err != nil {
			return err
		} else if taken {
			return nameTakenError(tx, in.OrganisationID, in.Name)
		}
		var last int
		if err := tx.Model(&PriceItem{}).Where("competition_id = ? AND organisation_id = ?", c.ID, in.OrganisationID).
			Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
			return fmt.Errorf("position price item: %w", err)
		}
		item = &PriceItem{ID: newID(), CompetitionID: c.ID, OrganisationID: in.OrganisationID, Name: in.Name, Unit: in.Unit,
			Quantity: in.Quantity, Position: last + 1, Version: 1}
		if err := tx.Create(item).Error; err != nil {
			return fmt.Errorf("add price item: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.price_item.add", c.ID, map[string]any{"organisation_id": in.OrganisationID,
			"item_id": item.ID, "name": item.Name, "unit": item.Unit, "quantity": item.Quantity})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, "competition.price_item.add", competitionID, err)
	}
	return item, nil
}

// UpdatePriceItem changes a line of a price schedule in a draft
// competition. in.Version must be the item's version the editor saw, or
// store.ErrConflict is returned.
func (s *Service) UpdatePriceItem(ctx context.Context, actor audit.Actor, itemID string, in PriceItemInput) error {
	if err := in.check().Err(); err != nil {
		return err
	}
	competitionID := ""
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var item PriceItem
		if err := tx.Where("id = ?", itemID).First(&item).Error; err != nil {
			return notFound(err, "price item")
		}
		competitionID = item.CompetitionID
		if _, err := s.lockDraft(tx, actor, item.CompetitionID); err != nil {
			return err
		}
		if taken, err := nameTaken(tx, item.CompetitionID, item.OrganisationID, in.Name, item.ID); err != nil {
			return err
		} else if taken {
			return nameTakenError(tx, item.OrganisationID, in.Name)
		}
		res := tx.Model(&PriceItem{}).Where("id = ? AND version = ?", item.ID, in.Version).
			Updates(map[string]any{"name": in.Name, "unit": in.Unit, "quantity": in.Quantity, "version": in.Version + 1})
		if res.Error != nil {
			return fmt.Errorf("update price item: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		return s.appendAudit(tx, actor, "competition.price_item.update", item.CompetitionID, map[string]any{
			"organisation_id": item.OrganisationID, "item_id": item.ID,
			"old": map[string]any{"name": item.Name, "unit": item.Unit, "quantity": item.Quantity},
			"new": map[string]any{"name": in.Name, "unit": in.Unit, "quantity": in.Quantity}})
	})
	return s.refused(ctx, actor, "competition.price_item.update", competitionID, err)
}

// RemovePriceItem removes a line from a price schedule in a draft
// competition.
func (s *Service) RemovePriceItem(ctx context.Context, actor audit.Actor, itemID string) error {
	competitionID := ""
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var item PriceItem
		if err := tx.Where("id = ?", itemID).First(&item).Error; err != nil {
			return notFound(err, "price item")
		}
		competitionID = item.CompetitionID
		if _, err := s.lockDraft(tx, actor, item.CompetitionID); err != nil {
			return err
		}
		if err := tx.Where("id = ?", item.ID).Delete(&PriceItem{}).Error; err != nil {
			return fmt.Errorf("remove price item: %w", err)
		}
		return s.appendAudit(tx, actor, "competition.price_item.remove", item.CompetitionID, map[string]any{
			"organisation_id": item.OrganisationID, "item_id": item.ID, "name": item.Name})
	})
	return s.refused(ctx, actor, "competition.price_item.remove", competitionID, err)
}

// PriceSchedules lists each buying trust's price schedule, the lead's
// first, each in order.
func (s *Service) PriceSchedules(ctx context.Context, competitionID string) ([]Schedule, error) {
	return schedules(s.DB.WithContext(ctx), competitionID)
}

func schedules(db *gorm.DB, competitionID string) ([]Schedule, error) {
	bs, err := buyers(db, competitionID)
	if err != nil {
		return nil, err
	}
	var items []PriceItem
	if err := db.Where("competition_id = ?", competitionID).Order("organisation_id, position").Find(&items).Error; err != nil {
		return nil, fmt.Errorf("list price items: %w", err)
	}
	out := make([]Schedule, len(bs))
	for i, b := range bs {
		out[i].Buyer = b
		for _, it := range items {
			if it.OrganisationID == b.OrganisationID {
				out[i].Items = append(out[i].Items, it)
			}
		}
	}
	return out, nil
}
