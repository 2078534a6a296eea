package apptest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"gorm.io/gorm"
)

// Helpers that take a framework from published to live through the
// domain, for tests of what comes after (competitions, bids, the pages
// and browser journeys of both). The framework package's own tests cover
// each of these steps; here they are only the way to a live lot.

// UserID is the ID of the user with the subject at this portal's
// development provider (a second instance on the same database has its
// own provider and demo users).
func (h *Harness) UserID(t testing.TB, subject string) string {
	t.Helper()
	var id string
	if err := h.App.DB.Raw("SELECT id FROM users WHERE subject = ? AND issuer = ?", subject, app.DevIssuer(h.App.Config)).Scan(&id).Error; err != nil || id == "" {
		t.Fatalf("user %s: %q, %v", subject, id, err)
	}
	return id
}

// Org is the one organisation of the kind whose name or ODS code holds query.
func (h *Harness) Org(t testing.TB, kind, query string) orgs.Organisation {
	t.Helper()
	list, err := h.App.Orgs.Organisations(context.Background(), kind, query)
	if err != nil || len(list) != 1 {
		t.Fatalf("%s %q: %v (%d found)", kind, query, err, len(list))
	}
	return list[0]
}

// Actor is the demo user with the subject acting for the organisation of
// the kind that query finds.
func (h *Harness) Actor(t testing.TB, subject, kind, query string) audit.Actor {
	t.Helper()
	return audit.Actor{UserID: h.UserID(t, subject), OrgID: h.Org(t, kind, query).ID}
}

// Supplier is a supplier added by AddSuppliers, and the person who signs
// in for it.
type Supplier struct {
	audit.Actor
	Subject string // the development provider's subject to sign in as
	Email   string
}

// AddSuppliers adds n suppliers, each with one supplier user who signs in
// through the development provider as prefix-NNN.
func (h *Harness) AddSuppliers(t testing.TB, prefix string, n int) []Supplier {
	t.Helper()
	now := h.Clock.Now()
	out := make([]Supplier, n)
	h.addPeople(t, func(tx *gorm.DB) error {
		for i := range n {
			sub := fmt.Sprintf("%s-%03d", prefix, i)
			ch := fmt.Sprintf("9%07d", i)
			org := orgs.Organisation{ID: "org-" + sub, Kind: orgs.KindSupplier, Name: fmt.Sprintf("%s %03d Ltd", prefix, i),
				CompaniesHouseNumber: &ch, Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := tx.Omit("Lead").Create(&org).Error; err != nil {
				return err
			}
			email := sub + "@supplier.example.com"
			a, err := h.addUser(tx, sub, fmt.Sprintf("Bidder %03d", i), email, authz.SupplierUser, org.ID)
			if err != nil {
				return err
			}
			out[i] = Supplier{Actor: a, Subject: sub, Email: email}
		}
		return nil
	})
	return out
}

// AddPerson adds a person who signs in through the development provider
// as subject and holds role in the organisation.
func (h *Harness) AddPerson(t testing.TB, subject, name string, role authz.Role, orgID string) audit.Actor {
	t.Helper()
	var a audit.Actor
	h.addPeople(t, func(tx *gorm.DB) (err error) {
		a, err = h.addUser(tx, subject, name, subject+"@example.nhs.uk", role, orgID)
		return err
	})
	return a
}

// addPeople runs add in a transaction and reloads the role assignments.
func (h *Harness) addPeople(t testing.TB, add func(tx *gorm.DB) error) {
	t.Helper()
	err := h.App.DB.Transaction(func(tx *gorm.DB) error {
		if err := add(tx); err != nil {
			return err
		}
		return authz.Changed(tx)
	})
	if err == nil {
		err = h.App.Authz.Refresh(context.Background())
	}
	if err != nil {
		t.Fatalf("add people: %v", err)
	}
}

// addUser adds a user of the development provider with one membership.
func (h *Harness) addUser(tx *gorm.DB, subject, name, email string, role authz.Role, orgID string) (audit.Actor, error) {
	now := h.Clock.Now()
	u := orgs.User{ID: "user-" + subject, Issuer: app.DevIssuer(h.App.Config), Subject: subject, Email: email, Name: name,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&u).Error; err != nil {
		return audit.Actor{}, err
	}
	m := orgs.Membership{ID: "m-" + subject, UserID: u.ID, OrganisationID: orgID, Role: string(role), Source: orgs.SourcePortal, CreatedAt: now}
	if err := tx.Omit("User", "Organisation").Create(&m).Error; err != nil {
		return audit.Actor{}, err
	}
	return audit.Actor{UserID: u.ID, Label: u.Name, OrgID: orgID}, nil
}

// Apply has the supplier accept an invitation to the framework sent to
// email and submit a complete application to the lot: every requirement
// met with text, every declaration made, docs attached.
func (h *Harness) Apply(t testing.TB, fw *framework.Framework, lotID string, who audit.Actor, email, text string, docs ...framework.AttachedDocument) {
	t.Helper()
	ctx := context.Background()
	s := h.App.Framework
	_, token, err := s.Invite(ctx, audit.Actor{Label: "test"}, fw.ID, email, who.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, who, token, who.OrgID); err != nil {
		t.Fatal(err)
	}
	reqs, err := s.LotRequirements(ctx, lotID)
	if err != nil {
		t.Fatal(err)
	}
	content := framework.ApplicationContent{LotID: lotID, Answers: map[string]framework.Answer{}, Documents: docs}
	for _, d := range framework.Declarations {
		content.Declarations = append(content.Declarations, d.Key)
	}
	for _, r := range reqs {
		content.Answers[r.ID] = framework.Answer{Meets: framework.AnswerYes, Text: text}
	}
	body, err := content.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Sealed.Submit(ctx, who, framework.ApplicationBox(fw, lotID), who.OrgID, body, 0); err != nil {
		t.Fatalf("application of %s: %v", who.OrgID, err)
	}
}

// GoLive takes a published framework whose applications are in past its
// deadline: the demo evaluator is assigned, the two demo consortium leads
// turn their keys, the evaluator passes every pass/fail requirement and
// marks every other 3, the lead appoints every applicant and starts the
// standstill, and the clock moves an hour past it. It returns the live
// framework.
func (h *Harness) GoLive(t testing.TB, fw *framework.Framework) *framework.Framework {
	t.Helper()
	ctx := context.Background()
	s := h.App.Framework
	tom := audit.Actor{UserID: h.UserID(t, "demo-consortium-lead"), OrgID: fw.ConsortiumID}
	nadia := audit.Actor{UserID: h.UserID(t, "demo-consortium-lead-2"), OrgID: fw.ConsortiumID}
	ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
	if err := s.AssignEvaluators(ctx, tom, fw.ID, []string{ben.UserID}); err != nil {
		t.Fatal(err)
	}
	h.Clock.Set(fw.ApplicationDeadline.Add(time.Minute))
	if _, err := s.OpenApplications(ctx, tom, fw.ID); err != nil {
		t.Fatal(err)
	}
	if o, err := s.OpenApplications(ctx, nadia, fw.ID); err != nil || !o.Opened {
		t.Fatalf("opening with two keys: %+v (err %v)", o, err)
	}
	apps, err := s.Applications(ctx, fw.ID)
	if err != nil || len(apps) == 0 {
		t.Fatalf("%d applications opened (err %v)", len(apps), err)
	}
	reqsOf := map[string][]framework.LotRequirement{}
	var decisions []framework.Decision
	for _, a := range apps {
		reqs, ok := reqsOf[a.LotID]
		if !ok {
			if reqs, err = s.LotRequirements(ctx, a.LotID); err != nil {
				t.Fatal(err)
			}
			reqsOf[a.LotID] = reqs
		}
		if err := s.SaveScores(ctx, ben, a.ID, domaintest.PassingScores(reqs)); err != nil {
			t.Fatal(err)
		}
		if err := s.SubmitScores(ctx, ben, a.ID); err != nil {
			t.Fatal(err)
		}
		decisions = append(decisions, framework.Decision{ApplicationID: a.ID, Appoint: true})
	}
	if err := s.Decide(ctx, tom, fw.ID, decisions); err != nil {
		t.Fatal(err)
	}
	if err := s.StartStandstill(ctx, tom, fw.ID); err != nil {
		t.Fatal(err)
	}
	fw, err = s.Framework(ctx, fw.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.Clock.Set(fw.StandstillEnds.Add(time.Hour))
	if st := fw.State(h.Clock.Now()); st != framework.StateLive {
		t.Fatalf("the framework is %s, want live", st)
	}
	return fw
}
