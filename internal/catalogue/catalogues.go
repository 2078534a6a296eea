package catalogue

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// CatalogueInput is what a form submits to edit a catalogue's title and
// description.
type CatalogueInput struct {
	Title       string
	Description string
	Version     int // the version the editor saw
}

func (in *CatalogueInput) normalise() {
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Description = strings.TrimSpace(in.Description)
}

func (in *CatalogueInput) check() error {
	var v validate.Errors
	if v.Required("title", in.Title, "Enter the catalogue's title") && len(in.Title) > 200 {
		v.Add("title", "Title must be 200 characters or fewer")
	}
	if len(in.Description) > 4000 {
		v.Add("description", "Description must be 4,000 characters or fewer")
	}
	return v.Err()
}

// CreateCatalogue starts an empty catalogue owned by a consortium.
func (s *Service) CreateCatalogue(ctx context.Context, actor audit.Actor, consortiumID, title, description string) (*Catalogue, error) {
	in := CatalogueInput{Title: title, Description: description}
	in.normalise()
	now := s.Clock.Now()
	c := &Catalogue{ID: newID(), ConsortiumID: consortiumID, Title: in.Title, Description: in.Description, Version: 1, CreatedAt: now, UpdatedAt: now}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var v validate.Errors
		var owner orgs.Organisation
		if err := tx.Where("id = ?", consortiumID).First(&owner).Error; err != nil || owner.Kind != orgs.KindConsortium {
			v.Add("consortiumId", "Select the consortium that owns the catalogue")
		}
		if err := in.check(); err != nil {
			ve, _ := validate.As(err)
			v.List = append(v.List, ve.List...)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("create catalogue: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.create", ObjectType: "catalogue", ObjectID: c.ID,
			Detail: map[string]any{"consortium_id": consortiumID, "title": c.Title},
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateCatalogue changes the title and description. in.Version must match
// the stored version, so two people editing at once cannot silently
// overwrite each other.
func (s *Service) UpdateCatalogue(ctx context.Context, actor audit.Actor, id string, in CatalogueInput) error {
	in.normalise()
	if err := in.check(); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var c Catalogue
		if err := tx.Where("id = ?", id).First(&c).Error; err != nil {
			return notFound(err, "catalogue")
		}
		res := tx.Model(&Catalogue{}).Where("id = ? AND version = ?", id, in.Version).Updates(map[string]any{
			"title": in.Title, "description": in.Description, "version": in.Version + 1, "updated_at": s.Clock.Now(),
		})
		if res.Error != nil {
			return fmt.Errorf("update catalogue: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.update", ObjectType: "catalogue", ObjectID: id,
			Detail: map[string]any{"old_title": c.Title, "new_title": in.Title},
		})
	})
}

// Catalogue returns one catalogue.
func (s *Service) Catalogue(ctx context.Context, id string) (*Catalogue, error) {
	var c Catalogue
	if err := s.DB.WithContext(ctx).Where("id = ?", id).First(&c).Error; err != nil {
		return nil, notFound(err, "catalogue")
	}
	return &c, nil
}

// Catalogues lists a consortium's catalogues by title.
func (s *Service) Catalogues(ctx context.Context, consortiumID string) ([]Catalogue, error) {
	var out []Catalogue
	if err := s.DB.WithContext(ctx).Where("consortium_id = ?", consortiumID).Order("title, created_at").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list catalogues: %w", err)
	}
	return out, nil
}
