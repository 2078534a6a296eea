package framework

import (
	"context"
	"fmt"
	"time"
)

// Agreement is the framework agreement as made: the suppliers appointed to
// each lot, when the standstill ended and the agreement went live, and
// its term.
type Agreement struct {
	Framework Framework
	// State is the framework's state now: standstill, live, expired or
	// cancelled.
	State          string
	StandstillEnds time.Time
	// LiveFrom is when the agreement went live: the moment the standstill
	// ended, which the clock decides. Nil until then, and for a framework
	// cancelled during its standstill.
	LiveFrom  *time.Time
	TermStart time.Time
	TermEnd   time.Time
	Lots      []AgreementLot
}

// AgreementLot is one lot's appointed suppliers, by name.
type AgreementLot struct {
	Lot       Lot
	Suppliers []AppointedSupplier
}

// AppointedSupplier is a supplier on the framework agreement for a lot.
type AppointedSupplier struct {
	ApplicationID  string
	OrganisationID string
	Name           string
	// AppointedAt is when the lead decided to appoint it.
	AppointedAt time.Time
	// Status is AppointmentCurrent, AppointmentSuspended or
	// AppointmentEnded, with the reason and when it changed.
	Status          string
	StatusReason    string
	StatusChangedAt *time.Time
}

// Agreement returns the framework agreement record, from the start of the
// standstill (when the appointments are confirmed and notified) onwards;
// before that it is ErrNoAgreement.
func (s *Service) Agreement(ctx context.Context, frameworkID string) (*Agreement, error) {
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return nil, err
	}
	if f.StandstillEnds == nil {
		return nil, ErrNoAgreement
	}
	now := s.now()
	ag := &Agreement{Framework: *f, State: f.State(now), StandstillEnds: f.StandstillEnds.UTC(), TermStart: f.TermStart, TermEnd: f.TermEnd}
	wentLive := !now.Before(*f.StandstillEnds) && (f.CancelledAt == nil || f.CancelledAt.After(*f.StandstillEnds))
	if wentLive {
		at := f.StandstillEnds.UTC()
		ag.LiveFrom = &at
	}
	lots, err := s.Lots(ctx, frameworkID)
	if err != nil {
		return nil, err
	}
	apps, err := applications(s.DB.WithContext(ctx), "framework_applications.framework_id = ? AND framework_applications.status = ?", frameworkID, ApplicationAppointed)
	if err != nil {
		return nil, err
	}
	for _, l := range lots {
		al := AgreementLot{Lot: l}
		for _, a := range apps {
			if a.LotID != l.ID {
				continue
			}
			sup := AppointedSupplier{ApplicationID: a.ID, OrganisationID: a.SupplierOrgID, Name: a.Supplier.Name,
				Status: a.AppointmentStatus, StatusReason: a.AppointmentReason, StatusChangedAt: a.AppointmentChangedAt}
			if a.DecidedAt != nil {
				sup.AppointedAt = a.DecidedAt.UTC()
			}
			al.Suppliers = append(al.Suppliers, sup)
		}
		ag.Lots = append(ag.Lots, al)
	}
	return ag, nil
}

// VisibleToBuyer reports whether an organisation may see a framework
// agreement as a buyer: the agreement is live (or has expired, for the
// record of call-offs made under it) and the organisation is one of its
// eligible buyers, a consortium member or admitted by the lead.
func (s *Service) VisibleToBuyer(ctx context.Context, frameworkID, orgID string) (bool, error) {
	f, err := s.Framework(ctx, frameworkID)
	if err != nil {
		return false, err
	}
	switch f.State(s.now()) {
	case StateLive, StateExpired:
	default:
		return false, nil
	}
	ok, err := s.EligibleBuyer(ctx, frameworkID, orgID)
	if err != nil {
		return false, fmt.Errorf("framework visible to buyer: %w", err)
	}
	return ok, nil
}
