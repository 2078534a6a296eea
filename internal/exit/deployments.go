package exit

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/orgs"
)

// Scope is whose deployments a view covers: the whole country (the
// national programme view), a consortium's member trusts, or one trust.
type Scope struct {
	// Kind is orgs.KindNational, orgs.KindConsortium or orgs.KindTrust.
	Kind string
	// OrgID is the consortium or trust ("" for the national view).
	OrgID string
}

// National is the scope of the national programme view.
var National = Scope{Kind: orgs.KindNational}

// ScopeOf is the scope an organisation sees: the whole country for the
// national programme and the platform operator, its current member trusts
// for a consortium, its own deployments for a trust; ok is false for a
// supplier, which sees none.
func ScopeOf(o orgs.Organisation) (Scope, bool) {
	switch o.Kind {
	case orgs.KindNational, orgs.KindPlatform:
		return National, true
	case orgs.KindConsortium, orgs.KindTrust:
		return Scope{Kind: o.Kind, OrgID: o.ID}, true
	}
	return Scope{}, false
}

// where limits q, over deployments, to the scope.
func (sc Scope) where(q *gorm.DB) *gorm.DB {
	switch sc.Kind {
	case orgs.KindTrust:
		return q.Where("deployments.organisation_id = ?", sc.OrgID)
	case orgs.KindConsortium:
		return q.Where("deployments.organisation_id IN (SELECT trust_id FROM consortium_members WHERE consortium_id = ? AND left_on IS NULL)", sc.OrgID)
	}
	return q
}

// Deployments lists the deployments in scope with their national contracts
// and trusts, by trust name, then system type and product, in three
// queries whatever their number.
func (s *Service) Deployments(ctx context.Context, sc Scope) ([]Deployment, error) {
	return deploymentsIn(s.DB.WithContext(ctx), sc)
}

// deploymentsIn reads the scope's deployments, then their national
// contracts and trusts in one query each (only the trusts' columns pages
// show): three flat queries scan far faster than one joined row per
// deployment carrying its contract and trust again.
func deploymentsIn(db *gorm.DB, sc Scope) ([]Deployment, error) {
	var out []Deployment
	q := db.Preload("NationalContract").Preload("Organisation", func(db *gorm.DB) *gorm.DB {
		return db.Select("id", "kind", "name", "region", "ods_code")
	}).Joins("JOIN organisations o ON o.id = deployments.organisation_id")
	err := sc.where(q).Order("o.name, deployments.system_type, deployments.product, deployments.id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}

// Deployment reads one deployment with its national contract and trust.
func (s *Service) Deployment(ctx context.Context, id string) (*Deployment, error) {
	return deploymentOf(s.DB.WithContext(ctx), id)
}

func deploymentOf(db *gorm.DB, id string) (*Deployment, error) {
	var d Deployment
	if err := db.Joins("NationalContract").Joins("Organisation").Where("deployments.id = ?", id).First(&d).Error; err != nil {
		return nil, notFound(err, "deployment")
	}
	d.utc()
	return &d, nil
}

// InScope reports whether the deployment is one the scope covers.
func (s *Service) InScope(ctx context.Context, sc Scope, d Deployment) (bool, error) {
	if sc.Kind == orgs.KindNational {
		return true, nil
	}
	var n int64
	q := s.DB.WithContext(ctx).Model(&Deployment{}).Where("deployments.id = ?", d.ID)
	if err := sc.where(q).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check scope: %w", err)
	}
	return n > 0, nil
}

// Rated is a deployment with its computed assessment.
type Rated struct {
	Deployment
	Assessment
}

// RateAll rates every deployment against the same rules and moment.
func RateAll(list []Deployment, r Rules, now time.Time) []Rated {
	out := make([]Rated, len(list))
	for i, d := range list {
		out[i] = Rated{Deployment: d, Assessment: Rate(d, r, now)}
	}
	return out
}
