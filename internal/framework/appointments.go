package framework

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CallOffSuppliers lists, by name, the suppliers appointed to a lot that may
// be called off at now: none unless the lot's framework is live then (in its
// standstill, expired or cancelled it has nobody to call off). It reads
// through db, so a mini-competition can use it inside its own transaction.
func CallOffSuppliers(db *gorm.DB, lotID string, now time.Time) ([]AppointedSupplier, error) {
	var lot Lot
	if err := db.Where("id = ?", lotID).First(&lot).Error; err != nil {
		return nil, notFound(err, "lot")
	}
	var f Framework
	if err := db.Where("id = ?", lot.FrameworkID).First(&f).Error; err != nil {
		return nil, notFound(err, "framework")
	}
	if f.State(now) != StateLive {
		return nil, nil
	}
	// A suspended or ended appointment is not called off (SetAppointment).
	apps, err := applications(db, "framework_applications.lot_id = ? AND framework_applications.status = ? AND framework_applications.appointment_status = ?",
		lotID, ApplicationAppointed, AppointmentCurrent)
	if err != nil {
		return nil, fmt.Errorf("call-off suppliers: %w", err)
	}
	out := make([]AppointedSupplier, 0, len(apps))
	for _, a := range apps {
		sup := AppointedSupplier{ApplicationID: a.ID, OrganisationID: a.SupplierOrgID, Name: a.Supplier.Name}
		if a.DecidedAt != nil {
			sup.AppointedAt = a.DecidedAt.UTC()
		}
		out = append(out, sup)
	}
	return out, nil
}
