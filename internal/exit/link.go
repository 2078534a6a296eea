package exit

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/validate"
)

// FieldDeployments names the contract form's choice of the deployments a
// contract replaces.
const FieldDeployments = "deployments"

// Replacements links contracts to the deployments they replace, for the
// contracts package (contracts.Service.Replacements): when a trust lead
// records on a contract which deployments it replaces, their exit plans
// are filled in from it, in the contract's transaction.
type Replacements struct{ S *Service }

// Replace records that contract c replaces exactly the deployments ids:
// each must be one of c's buying trust's; any it replaced before and are
// not among ids are no longer linked to it. Each linked deployment's exit
// plan is filled in from the contract (see fill).
func (r Replacements) Replace(tx *gorm.DB, actor audit.Actor, c contracts.Contract, ids []string) error {
	var list []Deployment
	if len(ids) > 0 {
		if err := tx.Joins("NationalContract").Joins("Organisation").Where("deployments.id IN ?", ids).Find(&list).Error; err != nil {
			return fmt.Errorf("read deployments: %w", err)
		}
	}
	found := map[string]bool{}
	for _, d := range list {
		if d.OrganisationID == c.OrganisationID {
			found[d.ID] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			var v validate.Errors
			v.Add(FieldDeployments, "Select only deployments of the buying trust")
			return v.Err()
		}
	}
	before, err := replacedBy(tx, c.ID)
	if err != nil {
		return err
	}
	for i := range before {
		d := &before[i]
		if found[d.ID] {
			continue
		}
		err := r.S.saveDeployment(tx, actor, d, d.Version, "deployment.contract.unlink", map[string]any{"contract_id": nil},
			map[string]any{"contract": c.ID})
		if err != nil {
			return err
		}
	}
	for i := range list {
		list[i].utc()
	}
	return r.fill(tx, actor, list, c)
}

// Refresh fills in again, from c, the exit plans of the deployments c
// replaces: after it is signed, say.
func (r Replacements) Refresh(tx *gorm.DB, actor audit.Actor, c contracts.Contract) error {
	list, err := replacedBy(tx, c.ID)
	if err != nil {
		return err
	}
	return r.fill(tx, actor, list, c)
}

// replacedBy reads the deployments contract contractID replaces.
func replacedBy(tx *gorm.DB, contractID string) ([]Deployment, error) {
	var list []Deployment
	if err := tx.Joins("NationalContract").Joins("Organisation").Where("deployments.contract_id = ?", contractID).Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read replaced deployments: %w", err)
	}
	for i := range list {
		list[i].utc()
	}
	return list, nil
}

// Replaced lists the ids of the deployments contract contractID replaces.
func (r Replacements) Replaced(db *gorm.DB, contractID string) ([]string, error) {
	var ids []string
	if err := db.Model(&Deployment{}).Where("contract_id = ?", contractID).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("read replaced deployments: %w", err)
	}
	return ids, nil
}

// fill links each deployment of list to contract c and fills in its plan
// from the contract (see fillOne), reading the competition's publication
// once for them all.
func (r Replacements) fill(tx *gorm.DB, actor audit.Actor, list []Deployment, c contracts.Contract) error {
	if len(list) == 0 {
		return nil
	}
	var published []time.Time
	if err := tx.Table("competitions").Where("id = ? AND published_at IS NOT NULL", c.CompetitionID).Pluck("published_at", &published).Error; err != nil {
		return fmt.Errorf("read competition: %w", err)
	}
	for i := range list {
		if err := r.fillOne(tx, actor, &list[i], c, published); err != nil {
			return err
		}
	}
	return nil
}

// fillOne links d to contract c and fills in its plan from the contract:
// the path becomes a call-off from the portal, the competition is linked,
// the procurement start is the competition's publication and the award
// the contract's making (where not recorded already), and the contract's
// signature date is the actual signature.
func (r Replacements) fillOne(tx *gorm.DB, actor audit.Actor, d *Deployment, c contracts.Contract, published []time.Time) error {
	changes := map[string]any{"contract_id": c.ID, "competition_id": c.CompetitionID, "path": PathCallOff}
	detail := map[string]any{"contract": c.ID}
	set := func(column string, cur *time.Time, t time.Time) {
		day := Day(t)
		if cur == nil || !cur.Equal(day) {
			changes[column] = day
			detail[column] = dateValue(&day)
		}
	}
	if d.ProcurementStartActual == nil && len(published) == 1 {
		set(ActualField(MilestoneProcurementStart), nil, published[0])
	}
	if d.AwardActual == nil {
		set(ActualField(MilestoneAward), nil, c.CreatedAt)
	}
	if c.SignedAt != nil {
		set(ActualField(MilestoneSigned), d.SignedActual, *c.SignedAt)
	}
	if deref(d.ContractID) == c.ID && d.Path == PathCallOff && deref(d.CompetitionID) == c.CompetitionID && len(detail) == 1 {
		return nil
	}
	return r.S.saveDeployment(tx, actor, d, d.Version, "deployment.contract.link", changes, detail)
}
