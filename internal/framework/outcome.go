package framework

import (
	"context"
	"fmt"
)

// SupplierOutcomes returns a supplier's own opened applications by lot,
// with the decision on each, once the award letters have gone (the
// standstill has started); before that, none, so that nothing of the
// evaluation reaches a supplier early. The caller checks that the person
// acts for the supplier.
func (s *Service) SupplierOutcomes(ctx context.Context, frameworkID, supplierOrgID string) (map[string]Application, error) {
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return nil, err
	}
	out := map[string]Application{}
	if f.StandstillStartedAt == nil {
		return out, nil
	}
	apps, err := applications(s.DB.WithContext(ctx), "framework_applications.framework_id = ? AND framework_applications.supplier_org_id = ?", frameworkID, supplierOrgID)
	if err != nil {
		return nil, fmt.Errorf("supplier outcomes: %w", err)
	}
	for _, a := range apps {
		out[a.LotID] = a
	}
	return out, nil
}
