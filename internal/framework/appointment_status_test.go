package framework_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestSuspendEndAndReinstateAppointments: once the agreement is live the
// lead can suspend an appointment (the supplier is told why and is no
// longer currently appointed), reinstate it, and end it for good; nobody
// else can, a reason is required, and an ended appointment stays ended.
func TestSuspendEndAndReinstateAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := liveAgreement(t, db)
		s := e.s
		ag, err := s.Agreement(ctx, e.fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sup framework.AppointedSupplier
		var lotID string
		for _, l := range ag.Lots {
			if len(l.Suppliers) > 0 {
				sup, lotID = l.Suppliers[0], l.Lot.ID
				break
			}
		}
		if ok, why, err := s.CurrentlyAppointed(ctx, lotID, sup.OrganisationID); err != nil || !ok || why != "" {
			t.Fatalf("appointed supplier not current: %v %q %v", ok, why, err)
		}
		if err := s.SetAppointment(ctx, e.tom, sup.ApplicationID, framework.AppointmentSuspended, " "); fieldErrors(t, err).For(framework.FieldAppointmentReason) == "" {
			t.Fatal("suspended without a reason")
		}
		if err := s.SetAppointment(ctx, e.ben, sup.ApplicationID, framework.AppointmentSuspended, "Insolvency notice"); !errors.Is(err, framework.ErrForbidden) {
			t.Fatalf("an evaluator suspended an appointment: %v", err)
		}
		if err := s.SetAppointment(ctx, e.tom, sup.ApplicationID, framework.AppointmentSuspended, "Insolvency notice received"); err != nil {
			t.Fatal(err)
		}
		ok, why, _ := s.CurrentlyAppointed(ctx, lotID, sup.OrganisationID)
		if ok || !strings.Contains(why, "suspended: Insolvency notice received") {
			t.Fatalf("suspended supplier: %v %q", ok, why)
		}
		told := 0
		for _, n := range domaintest.Notes(t, db, "framework_update") {
			if strings.Contains(n.Data["Update"].(string), "was suspended: Insolvency notice received") {
				told++
			}
		}
		if told == 0 {
			t.Fatal("the supplier was not told of the suspension")
		}
		e.clk.Advance(time.Hour)
		if err := s.SetAppointment(ctx, e.tom, sup.ApplicationID, framework.AppointmentCurrent, "Administrator appointed; trading continues"); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.CurrentlyAppointed(ctx, lotID, sup.OrganisationID); !ok {
			t.Fatal("reinstated supplier not current")
		}
		if err := s.SetAppointment(ctx, e.tom, sup.ApplicationID, framework.AppointmentEnded, "Contract terminated for breach"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAppointment(ctx, e.tom, sup.ApplicationID, framework.AppointmentCurrent, "Changed our mind"); !strings.Contains(fieldErrors(t, err).For(framework.FieldAppointment), "has ended") {
			t.Fatalf("an ended appointment was reinstated: %v", err)
		}
		ag, _ = s.Agreement(ctx, e.fw.ID)
		for _, l := range ag.Lots {
			for _, a := range l.Suppliers {
				if a.ApplicationID == sup.ApplicationID && (a.Status != framework.AppointmentEnded || a.StatusReason != "Contract terminated for breach") {
					t.Fatalf("agreement record: %+v", a)
				}
			}
		}
		if n := auditCount(t, db, "framework.appointment.change", audit.Success); n != 3 {
			t.Fatalf("%d appointment changes audited, want 3", n)
		}
		if n := auditCount(t, db, "framework.appointment.change", audit.Denied); n != 1 {
			t.Fatalf("%d refused appointment changes audited, want 1", n)
		}
	})
}

// liveAgreement takes evalSetup's framework to a live agreement: Sarah's
// Meridian applies to lot 1, Ben scores it, the two leads open, Tom
// appoints it, and the clock passes the end of the standstill.
func liveAgreement(t *testing.T, db *store.DB) *evalFixture {
	t.Helper()
	ctx := context.Background()
	e := evalSetup(t, db)
	s := e.s
	if err := s.Publish(ctx, e.tom, e.fw.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignEvaluators(ctx, e.tom, e.fw.ID, []string{e.ben.UserID}); err != nil {
		t.Fatal(err)
	}
	e.invite(t, e.sarah, "sarah.lund@meridian.example.com")
	e.clk.Set(e.fw.ApplicationsOpen)
	e.apply(t, e.sarah, e.lot1, e.reqs1, "MERIDIAN")
	e.clk.Set(e.fw.ApplicationDeadline)
	if _, err := e.openBoth(t); err != nil {
		t.Fatal(err)
	}
	apps, _ := s.Applications(ctx, e.fw.ID)
	if len(apps) != 1 {
		t.Fatalf("%d applications", len(apps))
	}
	e.score(t, e.ben, apps[0].ID, marks(e.reqs1, map[string]int{"EPR-MED-001": 3, "EPR-MED-002": 3, "EPR-MED-003": 3}))
	if err := s.Decide(ctx, e.tom, e.fw.ID, []framework.Decision{{ApplicationID: apps[0].ID, Appoint: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartStandstill(ctx, e.tom, e.fw.ID); err != nil {
		t.Fatal(err)
	}
	fw, _ := s.Framework(ctx, e.fw.ID)
	e.clk.Set(fw.StandstillEnds.Add(time.Minute))
	e.fw = fw
	return e
}

// TestKeysOfFormerLeadsDoNotCount: a lead turns a key and then loses the
// role; the second lead's key alone does not open the applications.
func TestKeysOfFormerLeadsDoNotCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := evalSetup(t, db)
		s := e.s
		if err := s.Publish(ctx, e.tom, e.fw.ID); err != nil {
			t.Fatal(err)
		}
		e.invite(t, e.sarah, "sarah.lund@meridian.example.com")
		e.clk.Set(e.fw.ApplicationsOpen)
		e.apply(t, e.sarah, e.lot1, e.reqs1, "MERIDIAN")
		e.clk.Set(e.fw.ApplicationDeadline)
		if o, err := s.OpenApplications(ctx, e.tom, e.fw.ID); err != nil || o.Opened {
			t.Fatalf("first key: %+v %v", o, err)
		}
		if err := db.Exec("DELETE FROM memberships WHERE user_id = ? AND role = ?", e.tom.UserID, "consortium_lead").Error; err != nil {
			t.Fatal(err)
		}
		o, err := s.OpenApplications(ctx, e.nadia, e.fw.ID)
		if err != nil || o.Opened || len(o.Keys) != 1 || o.Keys[0].UserID != e.nadia.UserID {
			t.Fatalf("a former lead's key counted: %+v (err %v)", o, err)
		}
		if n := count(t, db, "framework_applications"); n != 0 {
			t.Fatalf("%d applications opened", n)
		}
	})
}
