package backup

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
)

// tables lists the portal's tables in db (PostgreSQL: the current schema),
// leaving out SQLite's own bookkeeping.
func tables(db *gorm.DB) ([]string, error) {
	all, err := db.Migrator().GetTables()
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := all[:0]
	for _, t := range all {
		if !strings.HasPrefix(t, "sqlite_") {
			out = append(out, t)
		}
	}
	return out, nil
}

// counts returns the number of rows in every table, read through db (a
// transaction when the counts must match a snapshot).
func counts(db *gorm.DB) (map[string]int64, error) {
	names, err := tables(db)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, name := range names {
		var n int64
		if err := db.Table(name).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}

// auditHead reads the last entry of the audit chain.
func auditHead(db *gorm.DB) (AuditHead, error) {
	var h AuditHead
	if err := db.Model(&audit.Entry{}).Count(&h.Entries).Error; err != nil {
		return h, fmt.Errorf("count audit entries: %w", err)
	}
	var last audit.Entry
	if err := db.Select("seq, hash").Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return h, fmt.Errorf("read audit chain head: %w", err)
	}
	h.LastSeq, h.LastHash = last.Seq, last.Hash
	return h, nil
}
