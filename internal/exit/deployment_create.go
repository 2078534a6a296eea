package exit

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/validate"
)

// Field names of the deployment form.
const (
	FieldNationalContract = "national_contract"
	FieldTrust            = "trust"
	FieldSystemType       = "system_type"
	FieldProduct          = "product"
)

// MaxProduct is the longest a product's name may be.
const MaxProduct = 200

// DeploymentInput is one deployment as an administrator records it.
type DeploymentInput struct {
	NationalContractID string
	OrganisationID     string
	SystemType         string
	Product            string
}

func (in *DeploymentInput) normalise() {
	in.SystemType = strings.TrimSpace(in.SystemType)
	in.Product = strings.TrimSpace(in.Product)
}

// checkSystemAndProduct is what can be said of a deployment's system type
// and product alone, for the form and the import alike.
func checkSystemAndProduct(systemType, product string, add func(field, message string)) {
	if SystemLabel(systemType) == systemType {
		add(FieldSystemType, "Select the type of system deployed")
	}
	switch {
	case product == "":
		add(FieldProduct, "Enter the product deployed, such as Lorenzo or Cerner Millennium")
	case utf8.RuneCountInString(product) > MaxProduct:
		add(FieldProduct, fmt.Sprintf("The product's name must be %d characters or fewer", MaxProduct))
	}
}

// CreateDeployment records one deployment of a trust under a national
// contract, with no exit plan yet. The trust must be an NHS trust and the
// deployment new (the same national contract, trust, system type and
// product are recorded once). Only a platform administrator may.
func (s *Service) CreateDeployment(ctx context.Context, actor audit.Actor, in DeploymentInput) (*Deployment, error) {
	const action = "deployment.create"
	in.normalise()
	var v validate.Errors
	checkSystemAndProduct(in.SystemType, in.Product, v.Add)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Deployment
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := requireAdmin(tx, actor); err != nil {
			return err
		}
		var kinds []string
		if err := tx.Table("organisations").Where("id = ?", in.OrganisationID).Pluck("kind", &kinds).Error; err != nil {
			return fmt.Errorf("read trust: %w", err)
		}
		if len(kinds) != 1 || kinds[0] != orgs.KindTrust {
			v.Add(FieldTrust, "Select the NHS trust that runs the deployment")
		}
		var n int64
		if err := tx.Model(&NationalContract{}).Where("id = ?", in.NationalContractID).Count(&n).Error; err != nil {
			return fmt.Errorf("read national contract: %w", err)
		}
		if n == 0 {
			v.Add(FieldNationalContract, "Select the national contract the deployment is under")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Model(&Deployment{}).Where("national_contract_id = ? AND organisation_id = ? AND system_type = ? AND product = ?",
			in.NationalContractID, in.OrganisationID, in.SystemType, in.Product).Count(&n).Error; err != nil {
			return fmt.Errorf("check deployment: %w", err)
		}
		if n > 0 {
			v.Add(FieldProduct, "This deployment is already recorded for the trust under that national contract")
			return v.Err()
		}
		now := s.now()
		d := Deployment{ID: newID(), NationalContractID: in.NationalContractID, OrganisationID: in.OrganisationID,
			SystemType: in.SystemType, Product: in.Product, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.Omit("NationalContract", "Organisation").Create(&d).Error; err != nil {
			return fmt.Errorf("create deployment: %w", err)
		}
		out = &d
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "deployment", ObjectID: d.ID,
			Detail: map[string]any{"trust": d.OrganisationID, "national_contract": d.NationalContractID, "system_type": d.SystemType, "product": d.Product}})
	})
	if err != nil {
		return nil, s.refused(ctx, actor, action, "deployment", "", err)
	}
	return out, nil
}
