package catalogue

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/validate"
)

// maxSectionTitle bounds section headings.
const maxSectionTitle = 200

// sectionTitle tidies a heading the way it is stored and compared.
func sectionTitle(s string) string { return strings.Join(strings.Fields(s), " ") }

// checkSectionTitle validates a heading; imports match sections by title,
// so two sections may not differ only in case.
func checkSectionTitle(tx *gorm.DB, catalogueID, title, selfID string) error {
	var v validate.Errors
	if v.Required("title", title, "Enter the section's title") {
		if len(title) > maxSectionTitle {
			v.Add("title", "Section title must be 200 characters or fewer")
		} else {
			var n int64
			q := tx.Model(&Section{}).Where("catalogue_id = ? AND LOWER(title) = ?", catalogueID, strings.ToLower(title))
			if selfID != "" {
				q = q.Where("id <> ?", selfID)
			}
			if err := q.Count(&n).Error; err != nil {
				return fmt.Errorf("check section title: %w", err)
			}
			if n > 0 {
				v.Add("title", "The catalogue already has a section called "+title)
			}
		}
	}
	return v.Err()
}

// nextSectionPosition is one after the last section's position.
func nextSectionPosition(tx *gorm.DB, catalogueID string) (int, error) {
	var max *int
	if err := tx.Model(&Section{}).Where("catalogue_id = ?", catalogueID).Select("MAX(position)").Scan(&max).Error; err != nil {
		return 0, fmt.Errorf("find last section: %w", err)
	}
	if max == nil {
		return 1, nil
	}
	return *max + 1, nil
}

// AddSection adds a section at the end of the catalogue.
func (s *Service) AddSection(ctx context.Context, actor audit.Actor, catalogueID, title string) (*Section, error) {
	title = sectionTitle(title)
	sec := &Section{ID: newID(), CatalogueID: catalogueID, Title: title}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		if err := checkSectionTitle(tx, catalogueID, title, ""); err != nil {
			return err
		}
		pos, err := nextSectionPosition(tx, catalogueID)
		if err != nil {
			return err
		}
		sec.Position = pos
		if err := tx.Create(sec).Error; err != nil {
			return fmt.Errorf("create section: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.section.create", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{"section_id": sec.ID, "title": title},
		})
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// RenameSection changes a section's title.
func (s *Service) RenameSection(ctx context.Context, actor audit.Actor, catalogueID, sectionID, title string) error {
	title = sectionTitle(title)
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		var sec Section
		if err := tx.Where("id = ? AND catalogue_id = ?", sectionID, catalogueID).First(&sec).Error; err != nil {
			return notFound(err, "section")
		}
		if err := checkSectionTitle(tx, catalogueID, title, sectionID); err != nil {
			return err
		}
		if err := tx.Model(&Section{}).Where("id = ?", sectionID).Update("title", title).Error; err != nil {
			return fmt.Errorf("rename section: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.section.rename", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{"section_id": sectionID, "old_title": sec.Title, "new_title": title},
		})
	})
}

// DeleteSection removes an empty section; requirements must be moved or
// deleted first, so nothing disappears by accident.
func (s *Service) DeleteSection(ctx context.Context, actor audit.Actor, catalogueID, sectionID string) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.touch(tx, catalogueID); err != nil {
			return err
		}
		var sec Section
		if err := tx.Where("id = ? AND catalogue_id = ?", sectionID, catalogueID).First(&sec).Error; err != nil {
			return notFound(err, "section")
		}
		var n int64
		if err := tx.Model(&Requirement{}).Where("section_id = ?", sectionID).Count(&n).Error; err != nil {
			return fmt.Errorf("count section requirements: %w", err)
		}
		if n > 0 {
			var v validate.Errors
			v.Add("section", fmt.Sprintf("Move or delete the %d requirements in %s before deleting the section", n, sec.Title))
			return v.Err()
		}
		if err := tx.Where("id = ?", sectionID).Delete(&Section{}).Error; err != nil {
			return fmt.Errorf("delete section: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "catalogue.section.delete", ObjectType: "catalogue", ObjectID: catalogueID,
			Detail: map[string]any{"section_id": sectionID, "title": sec.Title},
		})
	})
}

// Sections lists a catalogue's sections in order.
func (s *Service) Sections(ctx context.Context, catalogueID string) ([]Section, error) {
	return sections(s.DB.WithContext(ctx), catalogueID)
}

func sections(db *gorm.DB, catalogueID string) ([]Section, error) {
	var out []Section
	if err := db.Where("catalogue_id = ?", catalogueID).Order("position, title").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list sections: %w", err)
	}
	return out, nil
}
