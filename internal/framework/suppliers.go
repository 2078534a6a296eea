package framework

import (
	"context"
	"fmt"
)

// supplierRole is authz.SupplierUser; the membership table stores the text.
const supplierRole = "supplier_user"

// SupplierUsers returns the users holding the supplier role in any
// supplier that accepted an invitation to the framework or has a sealed
// application in one of its lots: everyone taking part, who must hear of
// public clarification answers and changes. The application check reveals
// nothing to the caller: only user IDs come back, to be notified.
func (s *Service) SupplierUsers(ctx context.Context, frameworkID string) ([]string, error) {
	var ids []string
	err := s.DB.WithContext(ctx).Raw(`
		SELECT DISTINCT m.user_id FROM memberships m
		WHERE m.role = ? AND m.organisation_id IN (
			SELECT supplier_org_id FROM framework_invitations
				WHERE framework_id = ? AND status = ? AND supplier_org_id IS NOT NULL
			UNION
			SELECT ss.supplier_org_id FROM sealed_submissions ss
				JOIN framework_lots l ON l.id = ss.box_id
				WHERE ss.box_type = ? AND l.framework_id = ?)
		ORDER BY m.user_id`,
		supplierRole, frameworkID, InvitationAccepted, "framework_application", frameworkID).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("list supplier users: %w", err)
	}
	return ids, nil
}

// SupplierFrameworks lists the published frameworks a supplier accepted an
// invitation to, by reference. Open frameworks anyone may apply to are in
// PublicFrameworks.
func (s *Service) SupplierFrameworks(ctx context.Context, supplierOrgID string) ([]Framework, error) {
	var out []Framework
	err := s.DB.WithContext(ctx).
		Where("status <> ? AND id IN (?)", StatusDraft,
			s.DB.Model(&Invitation{}).Select("framework_id").Where("supplier_org_id = ? AND status = ?", supplierOrgID, InvitationAccepted)).
		Order("reference").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list supplier's frameworks: %w", err)
	}
	return out, nil
}
