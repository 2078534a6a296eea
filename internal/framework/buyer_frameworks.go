package framework

import (
	"context"
	"fmt"
)

// BuyerView is a published framework as a trust sees it when looking for
// something to buy from: its standing as a buyer under it, if any.
type BuyerView struct {
	Framework Framework
	// Status is the trust's Buyer status (member, requested, admitted,
	// refused), or "" when it has not asked.
	Status string
}

// Eligible reports whether the trust may call off from the framework.
func (b BuyerView) Eligible() bool { return b.Status == BuyerMember || b.Status == BuyerAdmitted }

// BuyerFrameworks lists every published framework (not cancelled) with the
// organisation's standing under it, by reference, so a trust can find the
// frameworks it may buy from and ask to be admitted to others. Lots,
// suppliers and applications are not part of it.
func (s *Service) BuyerFrameworks(ctx context.Context, orgID string) ([]BuyerView, error) {
	var fws []Framework
	if err := s.DB.WithContext(ctx).Where("status NOT IN ?", []string{StatusDraft, StatusCancelled}).Order("reference").Find(&fws).Error; err != nil {
		return nil, fmt.Errorf("list frameworks for a buyer: %w", err)
	}
	var buyers []Buyer
	if err := s.DB.WithContext(ctx).Where("organisation_id = ?", orgID).Find(&buyers).Error; err != nil {
		return nil, fmt.Errorf("read buyer standing: %w", err)
	}
	status := make(map[string]string, len(buyers))
	for _, b := range buyers {
		status[b.FrameworkID] = b.Status
	}
	now := s.now()
	out := make([]BuyerView, 0, len(fws))
	for _, f := range fws {
		if f.State(now) == StateExpired {
			continue
		}
		out = append(out, BuyerView{Framework: f, Status: status[f.ID]})
	}
	return out, nil
}
