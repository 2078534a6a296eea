package framework

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// What can happen to an appointment once the agreement exists.
const (
	AppointmentCurrent   = ""
	AppointmentSuspended = "suspended"
	AppointmentEnded     = "ended"
)

// Field names of SetAppointment's errors.
const (
	FieldAppointmentReason = "appointment_reason"
	FieldAppointment       = "appointment"
)

// AppointmentLabel is the plain-English state of an appointment.
func AppointmentLabel(status string) string {
	switch status {
	case AppointmentSuspended:
		return "Suspended"
	case AppointmentEnded:
		return "Ended"
	}
	return "Appointed"
}

// SetAppointment suspends, ends or reinstates (AppointmentCurrent) a
// supplier's appointment to a lot, with the reason. Only the consortium
// lead may, and only once the agreement exists (the standstill has
// started); an ended appointment is final. The supplier's users are told
// in the same transaction, which is audited with the old and new state.
// Call-offs read it through CurrentlyAppointed: a suspended or ended
// supplier is not invited to new competitions and, at a competition's
// deadline, not opened.
func (s *Service) SetAppointment(ctx context.Context, actor audit.Actor, applicationID, status, reason string) error {
	reason = strings.TrimSpace(reason)
	var v validate.Errors
	switch status {
	case AppointmentCurrent, AppointmentSuspended, AppointmentEnded:
	default:
		v.Add(FieldAppointment, "Choose whether to suspend, end or reinstate the appointment")
	}
	if v.Required(FieldAppointmentReason, reason, "Say why; the supplier is told") && len([]rune(reason)) > MaxReason {
		v.Add(FieldAppointmentReason, "The reason must be 5,000 characters or fewer")
	}
	if err := v.Err(); err != nil {
		return err
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		a, err := loadApplication(tx, applicationID)
		if err != nil {
			return err
		}
		f, err := s.lockAsLead(tx, actor, a.FrameworkID)
		if err != nil {
			return err
		}
		switch {
		case a.Status != ApplicationAppointed || f.StandstillStartedAt == nil:
			v.Add(FieldAppointment, fmt.Sprintf("%s is not appointed to lot %d", a.Supplier.Name, a.Lot.Number))
		case a.AppointmentStatus == AppointmentEnded:
			v.Add(FieldAppointment, fmt.Sprintf("The appointment of %s has ended and cannot be changed", a.Supplier.Name))
		case a.AppointmentStatus == status:
			v.Add(FieldAppointment, fmt.Sprintf("The appointment of %s is already %s", a.Supplier.Name, strings.ToLower(AppointmentLabel(status))))
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		res := tx.Model(&Application{}).Where("id = ? AND appointment_status = ?", a.ID, a.AppointmentStatus).
			Updates(map[string]any{"appointment_status": status, "appointment_reason": reason, "appointment_changed_at": now})
		if res.Error != nil {
			return fmt.Errorf("change appointment: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		users, err := orgs.UsersWithRole(tx, authz.SupplierUser, a.SupplierOrgID)
		if err != nil {
			return err
		}
		what := map[string]string{
			AppointmentSuspended: "your appointment to lot %d was suspended: %s",
			AppointmentEnded:     "your appointment to lot %d was ended: %s",
			AppointmentCurrent:   "your appointment to lot %d was reinstated: %s",
		}[status]
		data := map[string]any{"Framework": f.Reference + " " + f.Title, "Update": fmt.Sprintf(what, a.Lot.Number, reason)}
		if err := s.notifyAll(ctx, tx, users, updateKind, data, SupplierPath(f.ID)); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "framework.appointment.change", ObjectType: "framework_application", ObjectID: a.ID,
			Detail: map[string]any{"framework_id": f.ID, "lot": a.Lot.Number, "supplier_org_id": a.SupplierOrgID,
				"from": AppointmentLabel(a.AppointmentStatus), "to": AppointmentLabel(status), "reason": reason}})
	})
	return s.refused(ctx, actor, "framework.appointment.change", "framework_application", applicationID, err)
}

// CurrentlyAppointed reports whether a supplier is appointed to a lot now:
// appointed when the agreement was made, the framework live, and the
// appointment neither suspended nor ended. When it is not, why says so in
// words, for the supplier.
func (s *Service) CurrentlyAppointed(ctx context.Context, lotID, supplierOrgID string) (ok bool, why string, err error) {
	var a Application
	err = s.DB.WithContext(ctx).Where("lot_id = ? AND supplier_org_id = ? AND status = ?", lotID, supplierOrgID, ApplicationAppointed).
		Limit(1).Find(&a).Error
	if err != nil {
		return false, "", fmt.Errorf("read appointment: %w", err)
	}
	if a.ID == "" {
		return false, "Your organisation is not appointed to this lot", nil
	}
	f, err := s.Framework(ctx, a.FrameworkID)
	if err != nil {
		return false, "", err
	}
	if st := f.State(s.now()); st != StateLive {
		return false, fmt.Sprintf("The framework agreement is %s, so nothing can be called off from it", strings.ToLower(StateLabel(st))), nil
	}
	switch a.AppointmentStatus {
	case AppointmentSuspended:
		return false, "Your appointment to this lot is suspended: " + a.AppointmentReason, nil
	case AppointmentEnded:
		return false, "Your appointment to this lot has ended: " + a.AppointmentReason, nil
	}
	return true, "", nil
}
