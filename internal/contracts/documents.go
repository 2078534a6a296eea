package contracts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/validate"
)

// libraryOwner is documents.Upload's owner type for a file in an
// organisation's own library.
const libraryOwner = "library"

// documentRow is a document of the documents store as this package reads
// it.
type documentRow struct {
	ID             string
	OrganisationID string
	OwnerType      string
	Name           string
	SHA256         string `gorm:"column:sha256"`
}

// AttachDocument adds a document from the buying trust's library to the
// contract (the signed contract, its schedules, a variation). Documents
// may be added whatever the contract's state: a termination letter comes
// after the termination. Another organisation's document is refused as if
// it did not exist.
func (s *Service) AttachDocument(ctx context.Context, actor audit.Actor, contractID, documentID string) error {
	const action = "contract.document.add"
	return s.change(ctx, actor, contractID, action, "", func(tx *gorm.DB, c *Contract, now time.Time) error {
		var doc documentRow
		if err := tx.Table("documents").Select("id, organisation_id, owner_type, name, sha256").Where("id = ?", documentID).Limit(1).Scan(&doc).Error; err != nil {
			return fmt.Errorf("read document: %w", err)
		}
		var v validate.Errors
		if doc.ID == "" || doc.OrganisationID != c.OrganisationID || doc.OwnerType != libraryOwner {
			v.Add(FieldDocument, "Choose one of your trust's documents; upload it to your documents first if it is not there")
			return v.Err()
		}
		var n int64
		if err := tx.Model(&Document{}).Where("contract_id = ? AND document_id = ?", c.ID, doc.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("check document: %w", err)
		}
		if n > 0 {
			v.Add(FieldDocument, fmt.Sprintf("%s is already one of the contract's documents", doc.Name))
			return v.Err()
		}
		if err := tx.Create(&Document{ContractID: c.ID, DocumentID: doc.ID, AddedAt: now, AddedBy: actor.UserID}).Error; err != nil {
			return fmt.Errorf("add document: %w", err)
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"reference": c.Reference, "document_id": doc.ID, "name": doc.Name, "sha256": doc.SHA256})
	})
}

// RemoveDocument takes a document off the contract; the document stays in
// the trust's library.
func (s *Service) RemoveDocument(ctx context.Context, actor audit.Actor, contractID, documentID string) error {
	const action = "contract.document.remove"
	return s.change(ctx, actor, contractID, action, "", func(tx *gorm.DB, c *Contract, now time.Time) error {
		res := tx.Where("contract_id = ? AND document_id = ?", c.ID, documentID).Delete(&Document{})
		if res.Error != nil {
			return fmt.Errorf("remove document: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			var v validate.Errors
			v.Add(FieldDocument, "That document is not one of the contract's documents; choose one from its list")
			return v.Err()
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"reference": c.Reference, "document_id": documentID})
	})
}

// documents lists a contract's documents, with their names, in the order
// they were added.
func documents(db *gorm.DB, contractID string) ([]Document, error) {
	var rows []struct {
		Document
		DocName string
	}
	err := db.Table("contract_documents cd").
		Select("cd.contract_id, cd.document_id, cd.added_at, cd.added_by, d.name AS doc_name").
		Joins("JOIN documents d ON d.id = cd.document_id").
		Where("cd.contract_id = ?", contractID).Order("cd.added_at, cd.document_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list contract documents: %w", err)
	}
	out := make([]Document, len(rows))
	for i, r := range rows {
		out[i] = r.Document
		out[i].Name = r.DocName
		out[i].AddedAt = out[i].AddedAt.UTC()
	}
	return out, nil
}
