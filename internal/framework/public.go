package framework

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
)

// PublicAgreement is a framework agreement as anyone may read it without
// signing in: who runs it, its law, term, lots and the suppliers
// currently appointed to each. It holds nothing from the applications,
// the evaluation or the buyers, and no suspended or ended appointment
// (nor why).
type PublicAgreement struct {
	ID          string
	Reference   string
	Title       string
	Description string
	Regime      string
	Kind        string
	// Consortium is the name of the consortium that runs it.
	Consortium string
	// State is StateLive or StateExpired.
	State string
	// TermStart and TermEnd are dates, as Framework's.
	TermStart time.Time
	TermEnd   time.Time
	Lots      []PublicLot
}

// PublicLot is a lot of a public agreement with the names of the
// suppliers currently appointed to it.
type PublicLot struct {
	ID        string
	Number    int
	Title     string
	Scope     string
	CallOff   string
	Suppliers []string
}

// statusesMade are the stored statuses of a framework whose suppliers
// have been decided: only these can be, or have been, live.
var statusesMade = []string{StatusEvaluationDone, StatusStandstill, StatusLive}

// LiveAgreements lists the live framework agreements of every consortium,
// by reference, for the public pages. It takes the same few queries
// however many frameworks there are.
func (s *Service) LiveAgreements(ctx context.Context) ([]PublicAgreement, error) {
	return s.publicAgreements(ctx, []string{StateLive}, "")
}

// PublicAgreementByID is one framework agreement for the public pages:
// store.ErrNotFound unless it is live, or went live and has since
// expired. Drafts, frameworks still open or in evaluation or standstill,
// and cancelled ones are not found.
func (s *Service) PublicAgreementByID(ctx context.Context, id string) (*PublicAgreement, error) {
	list, err := s.publicAgreements(ctx, []string{StateLive, StateExpired}, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("public framework agreement: %w", store.ErrNotFound)
	}
	return &list[0], nil
}

// publicAgreements reads the agreements in one of states now (only the
// one with id when id is set): each framework's consortium, lots and
// current appointments are read for all of them at once.
func (s *Service) publicAgreements(ctx context.Context, states []string, id string) ([]PublicAgreement, error) {
	db := s.DB.WithContext(ctx)
	q := db.Where("status IN ? AND standstill_ends IS NOT NULL", statusesMade)
	if id != "" {
		q = q.Where("id = ?", id)
	}
	var fws []Framework
	if err := q.Order("reference").Find(&fws).Error; err != nil {
		return nil, fmt.Errorf("list public frameworks: %w", err)
	}
	now := s.now()
	var out []PublicAgreement
	var ids, consortia []string
	for _, f := range fws {
		st := f.State(now)
		// An agreement that expired before its standstill ended never went live.
		wentLive := f.StandstillEnds.Before(f.TermEnd)
		if !wentLive || (st != StateLive && st != StateExpired) || !slices.Contains(states, st) {
			continue
		}
		out = append(out, PublicAgreement{ID: f.ID, Reference: f.Reference, Title: f.Title, Description: f.Description,
			Regime: f.Regime, Kind: f.Kind, State: st, TermStart: f.TermStart, TermEnd: f.TermEnd})
		ids = append(ids, f.ID)
		consortia = append(consortia, f.ConsortiumID)
	}
	if len(out) == 0 {
		return nil, nil
	}
	var names []orgs.Organisation
	if err := db.Select("id, name").Where("id IN ?", consortia).Find(&names).Error; err != nil {
		return nil, fmt.Errorf("read consortia: %w", err)
	}
	name := map[string]string{}
	for _, o := range names {
		name[o.ID] = o.Name
	}
	var lots []Lot
	if err := db.Where("framework_id IN ?", ids).Order("number").Find(&lots).Error; err != nil {
		return nil, fmt.Errorf("read lots: %w", err)
	}
	apps, err := applications(db, "framework_applications.framework_id IN ? AND framework_applications.status = ? AND framework_applications.appointment_status = ?",
		ids, ApplicationAppointed, AppointmentCurrent)
	if err != nil {
		return nil, err
	}
	suppliers := map[string][]string{}
	for _, a := range apps {
		suppliers[a.LotID] = append(suppliers[a.LotID], a.Supplier.Name)
	}
	for i := range out {
		out[i].Consortium = name[consortia[i]]
		for _, l := range lots {
			if l.FrameworkID == out[i].ID {
				out[i].Lots = append(out[i].Lots, PublicLot{ID: l.ID, Number: l.Number, Title: l.Title, Scope: l.Scope, CallOff: l.CallOff,
					Suppliers: suppliers[l.ID]})
			}
		}
	}
	return out, nil
}
