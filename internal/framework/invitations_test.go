package framework_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// demoUser returns the seeded user with the subject.
func demoUser(t *testing.T, db *store.DB, subject string) orgs.User {
	t.Helper()
	var u orgs.User
	if err := db.Where("subject = ?", subject).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

func supplierByNumber(t *testing.T, db *store.DB, number string) orgs.Organisation {
	t.Helper()
	var o orgs.Organisation
	if err := db.Where("companies_house_number = ?", number).First(&o).Error; err != nil {
		t.Fatal(err)
	}
	return o
}

// newPerson adds a signed-in person with no organisation yet.
func newPerson(t *testing.T, db *store.DB, subject string) audit.Actor {
	t.Helper()
	u := orgs.User{ID: "u-" + subject, Issuer: domaintest.DevIssuer, Subject: subject, Email: subject + "@newco.example.com", Name: "New Person",
		Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	return audit.Actor{UserID: u.ID, Label: u.Name}
}

var invTables = append([]string{"framework_invitations", "organisations", "memberships"}, tables...)

func invCounts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range invTables {
		out[table] = count(t, db, table)
	}
	return out
}

func TestInviteAndFindByToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		inv, token, err := f.s.Invite(ctx, lead, fw.ID, "  Bids@NewCo.example.com ", "")
		if err != nil {
			t.Fatal(err)
		}
		if token == "" || inv.TokenHash == "" || inv.TokenHash == token {
			t.Fatalf("token %q, hash %q: want a token and only its hash stored", token, inv.TokenHash)
		}
		if inv.Email != "bids@newco.example.com" || inv.Status != framework.InvitationSent || inv.InvitedBy != lead.UserID {
			t.Errorf("invitation = %+v", inv)
		}
		var stored int64
		db.Table("framework_invitations").Where("token_hash = ?", token).Count(&stored)
		if stored != 0 {
			t.Error("the token itself was stored")
		}
		got, err := f.s.Invitation(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != inv.ID || got.FrameworkID != fw.ID {
			t.Errorf("Invitation(token) = %+v, want %s", got, inv.ID)
		}
		if _, err := f.s.Invitation(ctx, token+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong token: err = %v, want not found", err)
		}
		if _, err := f.s.Invitation(ctx, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("empty token: err = %v, want not found", err)
		}
		var n int64
		db.Table("audit_entries").Where("action = ? AND object_id = ?", "framework.invitation.send", fw.ID).Count(&n)
		if n != 1 {
			t.Errorf("%d invitation audit entries, want 1", n)
		}
		// The link's token is a credential: it is in no log or audit entry.
		var leaked int64
		db.Table("audit_entries").Where("detail LIKE ?", "%"+token+"%").Count(&leaked)
		if leaked != 0 {
			t.Error("the invitation token was written to the audit log")
		}
	})
}

func TestReinviteRevokesTheOldToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		first, oldToken, err := f.s.Invite(ctx, lead, fw.ID, "bids@newco.example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Hour)
		second, newToken, err := f.s.Invite(ctx, lead, fw.ID, "BIDS@newco.example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		if newToken == oldToken || second.ID == first.ID {
			t.Fatal("re-inviting must give a fresh token and invitation")
		}
		if _, err := f.s.Invitation(ctx, oldToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old token: err = %v, want not found", err)
		}
		if got, err := f.s.Invitation(ctx, newToken); err != nil || got.ID != second.ID {
			t.Errorf("new token: %v, %v", got, err)
		}
		list, err := f.s.Invitations(ctx, fw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != second.ID || list[0].Status != framework.InvitationSent ||
			list[1].Status != framework.InvitationRevoked || list[1].RevokedAt == nil {
			t.Errorf("invitations = %+v, want the new one sent and the old one revoked", list)
		}
		// The old link cannot be accepted any more.
		sarah := demoUser(t, db, "demo-supplier")
		meridian := supplierByNumber(t, db, "04123456")
		if _, err := f.s.Accept(ctx, audit.Actor{UserID: sarah.ID, OrgID: meridian.ID}, oldToken, meridian.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("accept with the old token: err = %v, want not found", err)
		}
	})
}

func TestInviteRefusesBadEmailAndStateAndSavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		before := invCounts(t, db)
		for _, email := range []string{"", "not an email", "bids@", "Bids <bids@newco.example.com>", "bids@localhost"} {
			_, token, err := f.s.Invite(ctx, lead, fw.ID, email, "")
			if v := fieldErrors(t, err); !v.Has(framework.FieldEmail) || token != "" {
				t.Errorf("%q: errors %v, token %q; want an email error and no token", email, v.List, token)
			}
		}
		trust := f.members[0].TrustID
		_, _, err := f.s.Invite(ctx, lead, fw.ID, "bids@newco.example.com", trust)
		if v := fieldErrors(t, err); !v.Has(framework.FieldOrganisation) {
			t.Errorf("inviting a trust: %v", v.List)
		}
		if _, _, err := f.s.Invite(ctx, lead, "no-such-framework", "bids@newco.example.com", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown framework: err = %v", err)
		}
		sameCounts(t, before, invCounts(t, db))

		if err := f.s.Cancel(ctx, lead, fw.ID, "Requirements changed"); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.s.Invite(ctx, lead, fw.ID, "bids@newco.example.com", "")
		if v := fieldErrors(t, err); v.For(framework.FieldState) != "Suppliers cannot be invited while the framework is cancelled" {
			t.Errorf("cancelled: %v", v.List)
		}
	})
}

func TestAcceptBySupplierUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		if err := f.s.Publish(ctx, lead, fw.ID); err != nil {
			t.Fatal(err)
		}
		sarah := demoUser(t, db, "demo-supplier")
		meridian := supplierByNumber(t, db, "04123456")
		northgate := supplierByNumber(t, db, "05234567")
		actor := audit.Actor{UserID: sarah.ID, Label: sarah.Name, OrgID: meridian.ID}
		_, token, err := f.s.Invite(ctx, lead, fw.ID, sarah.Email, "")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := f.s.Invited(ctx, fw.ID, meridian.ID); err != nil || ok {
			t.Errorf("Invited before acceptance = %v, %v; want false", ok, err)
		}

		// Sarah does not belong to Northgate; a trust is not a supplier.
		_, err = f.s.Accept(ctx, actor, token, northgate.ID)
		if v := fieldErrors(t, err); v.For(framework.FieldOrganisation) != "You do not belong to "+northgate.Name {
			t.Errorf("other supplier: %v", v.List)
		}
		lead := demoUser(t, db, "demo-trust-lead")
		var m orgs.Membership
		if err := db.Where("user_id = ?", lead.ID).First(&m).Error; err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Accept(ctx, audit.Actor{UserID: lead.ID}, token, m.OrganisationID)
		if v := fieldErrors(t, err); !v.Has(framework.FieldOrganisation) {
			t.Errorf("trust: %v", v.List)
		}

		inv, err := f.s.Accept(ctx, actor, token, meridian.ID)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Status != framework.InvitationAccepted || inv.SupplierOrgID == nil || *inv.SupplierOrgID != meridian.ID ||
			inv.AcceptedBy != sarah.ID || inv.AcceptedAt == nil {
			t.Errorf("accepted invitation = %+v", inv)
		}
		got, err := f.s.Invitation(ctx, token)
		if err != nil || got.Status != framework.InvitationAccepted || got.SupplierOrg == nil || got.SupplierOrg.ID != meridian.ID {
			t.Errorf("Invitation after acceptance = %+v, %v", got, err)
		}
		if ok, err := f.s.Invited(ctx, fw.ID, meridian.ID); err != nil || !ok {
			t.Errorf("Invited after acceptance = %v, %v; want true", ok, err)
		}
		if ok, err := f.s.Invited(ctx, fw.ID, northgate.ID); err != nil || ok {
			t.Errorf("Invited for an uninvited supplier of a closed framework = %v, %v; want false", ok, err)
		}
		_, err = f.s.Accept(ctx, actor, token, meridian.ID)
		if v := fieldErrors(t, err); v.For(framework.FieldInvitation) != "This invitation has already been accepted" {
			t.Errorf("second acceptance: %v", v.List)
		}
		var n int64
		db.Table("audit_entries").Where("action = ?", "framework.invitation.accept").Count(&n)
		if n != 1 {
			t.Errorf("%d acceptance audit entries, want 1", n)
		}
	})
}

func TestInvitationToKnownSupplierOnlyForThatSupplier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		meridian := supplierByNumber(t, db, "04123456")
		northgate := supplierByNumber(t, db, "05234567")
		james := demoUser(t, db, "demo-supplier-2")
		_, token, err := f.s.Invite(ctx, lead, fw.ID, "bids@meridian.example.com", meridian.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Accept(ctx, audit.Actor{UserID: james.ID}, token, northgate.ID)
		if v := fieldErrors(t, err); !v.Has(framework.FieldOrganisation) {
			t.Errorf("accepting for another supplier: %v", v.List)
		}
		before := invCounts(t, db)
		_, err = f.s.Register(ctx, newPerson(t, db, "newbie"), token, "Newco Ltd", "09876543")
		if v := fieldErrors(t, err); !v.Has(framework.FieldInvitation) {
			t.Errorf("registering from a known supplier's invitation: %v", v.List)
		}
		sameCounts(t, before, invCounts(t, db))
	})
}

func TestRegisterCreatesSupplierMembershipAndAccepts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		_, token, err := f.s.Invite(ctx, lead, fw.ID, "bids@newco.example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		actor := newPerson(t, db, "newco")
		org, err := f.s.Register(ctx, actor, token, "  Newco   Health Ltd ", "sc 654321")
		if err != nil {
			t.Fatal(err)
		}
		if org.Kind != orgs.KindSupplier || org.Name != "Newco Health Ltd" || org.CompaniesHouse() != "SC654321" {
			t.Errorf("organisation = %+v", org)
		}
		stored := supplierByNumber(t, db, "SC654321")
		if stored.ID != org.ID {
			t.Errorf("stored supplier %s, want %s", stored.ID, org.ID)
		}
		var m orgs.Membership
		if err := db.Where("user_id = ? AND organisation_id = ?", actor.UserID, org.ID).First(&m).Error; err != nil {
			t.Fatalf("membership: %v", err)
		}
		if m.Role != string(authz.SupplierUser) {
			t.Errorf("role %q, want supplier_user", m.Role)
		}
		inv, err := f.s.Invitation(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Status != framework.InvitationAccepted || inv.SupplierOrgID == nil || *inv.SupplierOrgID != org.ID || inv.AcceptedBy != actor.UserID {
			t.Errorf("invitation = %+v", inv)
		}
		if ok, err := f.s.Invited(ctx, fw.ID, org.ID); err != nil || !ok {
			t.Errorf("Invited = %v, %v; want true", ok, err)
		}
		for _, action := range []string{"organisation.create", "membership.grant", "framework.invitation.accept"} {
			var n int64
			db.Table("audit_entries").Where("action = ?", action).Count(&n)
			if n != 1 {
				t.Errorf("%d %s audit entries, want 1", n, action)
			}
		}
		// The link is spent.
		_, err = f.s.Register(ctx, actor, token, "Newco Two Ltd", "01111111")
		if v := fieldErrors(t, err); !v.Has(framework.FieldInvitation) {
			t.Errorf("second registration: %v", v.List)
		}
	})
}

func TestRegisterIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		fw, _ := f.ready(t, "SLCSC-EPR-2027")
		_, token, err := f.s.Invite(ctx, lead, fw.ID, "bids@newco.example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		actor := newPerson(t, db, "newco")
		var authzBefore int64
		db.Table("authz_state").Select("version").Row().Scan(&authzBefore)
		before := invCounts(t, db)

		_, err = f.s.Register(ctx, actor, token, "Meridian Copy Ltd", "04123456")
		v := fieldErrors(t, err)
		if got := v.For(framework.FieldCompaniesHouse); got != "Another supplier already has Companies House number 04123456" {
			t.Errorf("duplicate number: %q (%v)", got, v.List)
		}
		_, err = f.s.Register(ctx, actor, token, "", "12")
		v = fieldErrors(t, err)
		if v.For(framework.FieldSupplierName) != "Enter the organisation's name" || !v.Has(framework.FieldCompaniesHouse) {
			t.Errorf("empty form: %v", v.List)
		}
		if _, err := f.s.Register(ctx, actor, "wrong-token", "Newco Ltd", "09876543"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong token: err = %v, want not found", err)
		}
		if _, err := f.s.Register(ctx, audit.Actor{UserID: "nobody"}, token, "Newco Ltd", "09876543"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown user: err = %v, want not found", err)
		}
		sameCounts(t, before, invCounts(t, db))
		var authzAfter int64
		db.Table("authz_state").Select("version").Row().Scan(&authzAfter)
		if authzAfter != authzBefore {
			t.Errorf("role version went from %d to %d", authzBefore, authzAfter)
		}
		inv, err := f.s.Invitation(ctx, token)
		if err != nil || inv.Status != framework.InvitationSent {
			t.Errorf("invitation after failed registrations = %+v, %v; want still sent", inv, err)
		}
	})
}

func TestInvitedForOpenFramework(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		in := validInput("SLCSC-DIG-2027")
		in.Regime, in.Kind = framework.RegimePA2023, framework.KindOpen
		fw, err := f.s.CreateFramework(ctx, lead, f.london, in)
		if err != nil {
			t.Fatal(err)
		}
		lot, err := f.s.AddLot(ctx, lead, fw.ID, framework.LotInput{Title: "Digital", Scope: "All", Min: 1, Max: 10, CallOff: framework.CallOffDirect})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CopyRequirements(ctx, lead, lot.ID, f.cat.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetCriteria(ctx, lead, fw.ID, []framework.Criterion{{Name: "Quality", Weight: 100}}); err != nil {
			t.Fatal(err)
		}
		northgate := supplierByNumber(t, db, "05234567")
		if ok, err := f.s.Invited(ctx, fw.ID, northgate.ID); err != nil || ok {
			t.Errorf("draft open framework: Invited = %v, %v; want false", ok, err)
		}
		if err := f.s.Publish(ctx, lead, fw.ID); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.s.Invited(ctx, fw.ID, northgate.ID); err != nil || !ok {
			t.Errorf("published open framework: Invited = %v, %v; want true", ok, err)
		}
		public, err := f.s.PublicFrameworks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(public) != 1 || public[0].ID != fw.ID {
			t.Errorf("public frameworks = %v, want only %s", public, fw.Reference)
		}
		if _, err := f.s.Invited(ctx, "no-such-framework", northgate.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown framework: err = %v", err)
		}
	})
}
