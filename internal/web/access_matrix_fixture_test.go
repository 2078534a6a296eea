package web_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// matrixActor is a person of organisation B who tries organisation A's
// objects. inConsortium marks the London member trusts' people, who may
// legitimately read the London framework as its buyers, so frameworks and
// catalogues are left out for them; coBidder marks the supplier that bid
// beside A's supplier, tried only on objects naming another supplier's
// application, bid, contract or document.
type matrixActor struct {
	Subject      string
	Role         authz.Role
	inConsortium bool
	coBidder     bool
}

// matrixWorld holds two of everything that matters. Organisation A is the
// demo's: the South London consortium's catalogue and live framework (with
// applications by Meridian and Northgate), St George's (RJ7) awarded
// competition with both suppliers' opened bids, its evaluation, award and
// contract with Meridian, a second RJ7 competition opened and being marked
// (the evaluation pages other than the report), an RJ7 deployment, an RJ7
// document and Aisha Khan's notifications. Organisation B has its own of each: the Yorkshire
// consortium's catalogue and draft framework, Guy's and St Thomas' (RJ1)
// opened competition with bids from both suppliers, an RJ1 deployment,
// documents of RJ1, Leeds (RR8) and a supplier outside A's procurements, and
// the notifications of Northgate's supplier user.
type matrixWorld struct {
	// params fills path parameters: the route family (its first path
	// segments) then the parameter name, with A's object.
	params map[string]map[string]string
	// actors are B's people, one or more for every role.
	actors []matrixActor
	// owners are A's people by role, for the control requests.
	consortiumLead, trustLead, evaluator, boardMember, supplier string
}

// matrixFamilies are the route families, longest first so that the
// longest matching prefix wins.
var matrixFamilies = []string{"/competitions/:id/evaluation/report", "/competitions/:id/award", "/exit/deployments", "/organisations", "/notifications", "/catalogues", "/frameworks",
	"/competitions", "/contracts", "/documents", "/invitations"}

// buildMatrixWorld makes the world through the domain, reusing the
// journeys' fixtures, and leaves the clock where every deadline in it has
// passed.
func buildMatrixWorld(t *testing.T, h *apptest.Harness) *matrixWorld {
	t.Helper()
	ctx := context.Background()
	rj7, rj1, rr8 := orgID(t, h, "RJ7"), orgID(t, h, "RJ1"), orgID(t, h, "RR8")
	london := h.Org(t, orgs.KindConsortium, orgs.DemoLondon).ID
	yorkshire := h.Org(t, orgs.KindConsortium, orgs.DemoYorkshire).ID
	aisha := h.Actor(t, "demo-trust-lead", orgs.KindTrust, "RJ7")
	meridian := h.Actor(t, "demo-supplier", orgs.KindSupplier, "Meridian")

	// A: deployments, then the framework, competition, award and contract.
	eprA, _, pacsB := exitDeployments(t, h, 0)
	comp, contract := awardedCompetition(t, h, time.Date(2031, 3, 31, 0, 0, 0, 0, time.UTC))
	fw := mustFrameworkOfLot(t, h, comp.LotID)
	cats, err := h.App.Catalogue.Catalogues(ctx, london)
	if err != nil || len(cats) != 1 {
		t.Fatalf("London catalogues: %d (err %v)", len(cats), err)
	}
	docA, err := h.App.Docs.Put(ctx, aisha, documents.Upload{OrganisationID: rj7, OwnerType: "library", Name: "board-paper.pdf",
		Body: bytes.NewReader(testPDF("RJ7 board paper", 0))})
	if err != nil {
		t.Fatal(err)
	}

	// B: the Yorkshire consortium's catalogue and framework.
	yorkLead := h.AddPerson(t, "matrix-york-lead", "Owen Price", authz.ConsortiumLead, yorkshire)
	ycat, err := h.App.Catalogue.CreateCatalogue(ctx, yorkLead, yorkshire, "Yorkshire EPR requirements", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Catalogue.Import(ctx, yorkLead, ycat.ID, "r.csv", bytes.NewReader([]byte(goodCSV))); err != nil {
		t.Fatal(err)
	}
	now := h.Clock.Now()
	yfw, err := h.App.Framework.CreateFramework(ctx, yorkLead, yorkshire, framework.FrameworkInput{
		Reference: "YHEC-EPR-2028", Title: "Yorkshire clinical systems", Regime: framework.RegimePA2023, Kind: framework.KindClosed,
		TermStart: now.AddDate(1, 0, 0), TermEnd: now.AddDate(4, 0, 0),
		ApplicationsOpen: now.AddDate(0, 1, 0), ClarificationDeadline: now.AddDate(0, 2, 0), ApplicationDeadline: now.AddDate(0, 2, 7),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Framework.AddLot(ctx, yorkLead, yfw.ID, framework.LotInput{Title: "EPR", Min: 1, Max: 3, CallOff: framework.CallOffBoth}); err != nil {
		t.Fatal(err)
	}

	// B: Guy's and St Thomas' own competition under the same lot, bid for
	// by both suppliers and opened.
	rj1Lead := h.AddPerson(t, "matrix-rj1-lead", "Ruth Adeyemi", authz.TrustLead, rj1)
	rj1Eval := h.AddPerson(t, "matrix-rj1-evaluator", "Kofi Mensah", authz.Evaluator, rj1)
	openedOnLot(t, h, rj1Lead, rj1Eval, comp, "SWL-EPR-2027-08", nil)

	// A: a second St George's competition, opened and being evaluated
	// (the awarded one is past marking), with a document in its pack.
	ben := h.Actor(t, "demo-evaluator", orgs.KindTrust, "RJ7")
	compA := openedOnLot(t, h, aisha, ben, comp, "SWL-EPR-2027-07", func(c *competition.Competition) {
		if err := h.App.Competition.AddDocument(ctx, aisha, c.ID, docA.ID, "The board paper explains the scope"); err != nil {
			t.Fatal(err)
		}
	})
	if err := h.App.Competition.DeclareConflicts(ctx, ben, compA.ID, []competition.DeclarationInput{
		{SupplierOrgID: meridian.OrgID}, {SupplierOrgID: actingOrg(t, h, "demo-supplier-2")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Docs.Put(ctx, rj1Lead, documents.Upload{OrganisationID: rj1, OwnerType: "library", Name: "rj1-paper.pdf",
		Body: bytes.NewReader(testPDF("RJ1 paper", 0))}); err != nil {
		t.Fatal(err)
	}

	// B: a Leeds trust's people and a supplier in none of A's procurements.
	rr8Lead := h.AddPerson(t, "matrix-rr8-lead", "Hannah Booth", authz.TrustLead, rr8)
	h.AddPerson(t, "matrix-rr8-evaluator", "Imran Ali", authz.Evaluator, rr8)
	h.AddPerson(t, "matrix-rr8-board", "Joan Whitaker", authz.BoardMember, rr8)
	outsider := h.AddSuppliers(t, "matrix-outsider", 1)[0]
	for _, up := range []struct {
		who  audit.Actor
		name string
	}{{rr8Lead, "rr8-plan.pdf"}, {outsider.Actor, "outsider-brochure.pdf"}} {
		if _, err := h.App.Docs.Put(ctx, up.who, documents.Upload{OrganisationID: up.who.OrgID, OwnerType: "library", Name: up.name,
			Body: bytes.NewReader(testPDF(up.name, 0))}); err != nil {
			t.Fatal(err)
		}
	}

	// A's objects named in the paths.
	var lotReq, catReq, compReq, item, meridianApp, caseStudy, meridianBid, notification string
	one := func(dst *string, query string, args ...any) {
		t.Helper()
		if err := h.App.DB.Raw(query, args...).Scan(dst).Error; err != nil || *dst == "" {
			t.Fatalf("%s: %q (err %v)", query, *dst, err)
		}
	}
	one(&catReq, "SELECT id FROM catalogue_requirements WHERE catalogue_id = ? ORDER BY reference LIMIT 1", cats[0].ID)
	one(&lotReq, "SELECT id FROM framework_lot_requirements WHERE lot_id = ? ORDER BY reference LIMIT 1", comp.LotID)
	one(&compReq, "SELECT id FROM competition_requirements WHERE competition_id = ? ORDER BY reference LIMIT 1", compA.ID)
	one(&item, "SELECT id FROM competition_price_items WHERE competition_id = ? LIMIT 1", compA.ID)
	one(&meridianApp, "SELECT id FROM framework_applications WHERE framework_id = ? AND supplier_org_id = ?", fw.ID, meridian.OrgID)
	one(&caseStudy, "SELECT id FROM documents WHERE organisation_id = ? AND name = ?", meridian.OrgID, "case-study.pdf")
	one(&meridianBid, "SELECT id FROM competition_bids WHERE competition_id = ? AND supplier_org_id = ?", compA.ID, meridian.OrgID)
	one(&notification, "SELECT id FROM notifications WHERE user_id = ? ORDER BY created_at LIMIT 1", aisha.UserID)
	var notesB int64
	h.App.DB.Raw("SELECT COUNT(*) FROM notifications WHERE user_id = ?", h.UserID(t, "demo-supplier-2")).Scan(&notesB)
	if notesB == 0 {
		t.Fatal("Northgate's supplier user has no notifications of their own")
	}
	if pacsB.OrganisationID != rj1 {
		t.Fatalf("B's deployment belongs to %s", pacsB.OrganisationID)
	}

	return &matrixWorld{
		params: map[string]map[string]string{
			"/organisations":                      {"id": rj7},
			"/notifications":                      {"id": notification},
			"/catalogues":                         {"id": cats[0].ID, "req": catReq},
			"/frameworks":                         {"id": fw.ID, "lot": comp.LotID, "app": meridianApp, "doc": caseStudy, "section": "1", "number": "1", "org": rr8},
			"/competitions/:id/award":             {"id": comp.ID},
			"/competitions/:id/evaluation/report": {"id": comp.ID},
			"/competitions":                       {"id": compA.ID, "org": rj7, "item": item, "req": compReq, "doc": docA.ID, "section": "1", "number": "1", "bid": meridianBid, "user": h.UserID(t, "demo-evaluator")},
			"/contracts":                          {"id": contract.ID, "doc": docA.ID},
			"/documents":                          {"id": docA.ID},
			"/exit/deployments":                   {"id": eprA.ID},
		},
		actors: []matrixActor{
			{Subject: "demo-platform-admin", Role: authz.PlatformAdmin},
			{Subject: "demo-auditor", Role: authz.Auditor},
			{Subject: "demo-national-viewer", Role: authz.NationalViewer},
			{Subject: "matrix-york-lead", Role: authz.ConsortiumLead},
			{Subject: "matrix-rr8-lead", Role: authz.TrustLead},
			{Subject: "matrix-rr8-evaluator", Role: authz.Evaluator},
			{Subject: "matrix-rr8-board", Role: authz.BoardMember},
			{Subject: "matrix-rj1-lead", Role: authz.TrustLead, inConsortium: true},
			{Subject: "matrix-rj1-evaluator", Role: authz.Evaluator, inConsortium: true},
			{Subject: "demo-board-member-gstt", Role: authz.BoardMember, inConsortium: true},
			{Subject: outsider.Subject, Role: authz.SupplierUser},
			{Subject: "demo-supplier-2", Role: authz.SupplierUser, coBidder: true},
		},
		consortiumLead: "demo-consortium-lead", trustLead: "demo-trust-lead", evaluator: "demo-evaluator",
		boardMember: "demo-board-member", supplier: "demo-supplier",
	}
}

// mustFrameworkOfLot is the framework the lot belongs to.
func mustFrameworkOfLot(t *testing.T, h *apptest.Harness, lotID string) *framework.Framework {
	t.Helper()
	var id string
	if err := h.App.DB.Raw("SELECT framework_id FROM framework_lots WHERE id = ?", lotID).Scan(&id).Error; err != nil || id == "" {
		t.Fatalf("framework of lot %s: %v", lotID, err)
	}
	fw, err := h.App.Framework.Framework(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

// openedOnLot publishes a competition of the lead's trust under the lot of
// earlier, with the reference given (biddingCompetitionRef, with the panel
// member), lets before change it while bids are open, has both demo
// suppliers bid and opens the bids with the lead's and the panel member's
// keys after the deadline.
func openedOnLot(t *testing.T, h *apptest.Harness, lead, panel audit.Actor, earlier *competition.Competition, reference string,
	before func(*competition.Competition)) *competition.Competition {
	t.Helper()
	c, _ := biddingCompetitionRef(t, h, lead, earlier.LotID, reference, panel.UserID)
	if before != nil {
		before(c)
	}
	bidAndOpen(t, h, c, map[string]int64{"demo-supplier": 11, "demo-supplier-2": 11}, lead, panel)
	return c
}
