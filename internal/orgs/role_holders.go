package orgs

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/authz"
)

// UsersWithRole lists the enabled users holding role in any of orgIDs,
// each once, in a stable order: the people to tell about something, such
// as a framework's leads or a supplier's users. It reads through db, so it
// can run inside the caller's transaction.
func UsersWithRole(db *gorm.DB, role authz.Role, orgIDs ...string) ([]string, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	var ids []string
	err := db.Table("memberships m").Joins("JOIN users u ON u.id = m.user_id").
		Where("m.role = ? AND m.organisation_id IN ? AND u.disabled_at IS NULL", string(role), orgIDs).
		Distinct("m.user_id").Order("m.user_id").Pluck("m.user_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list %s users: %w", role, err)
	}
	return ids, nil
}
