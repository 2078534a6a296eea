package framework

import (
	"context"
	"fmt"
)

// EvaluatorFrameworks lists the frameworks a person is assigned to
// evaluate, by reference.
func (s *Service) EvaluatorFrameworks(ctx context.Context, userID string) ([]Framework, error) {
	var out []Framework
	err := s.DB.WithContext(ctx).
		Where("id IN (?)", s.DB.Table("framework_evaluators").Select("framework_id").Where("user_id = ?", userID)).
		Order("reference").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list evaluator's frameworks: %w", err)
	}
	return out, nil
}
