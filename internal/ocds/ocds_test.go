package ocds_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/ocds"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// record is the compiled release of a record package, decoded.
func compiled(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var pkg struct {
		Records []struct {
			CompiledRelease map[string]any `json:"compiledRelease"`
		} `json:"records"`
	}
	if err := json.Unmarshal(body, &pkg); err != nil || len(pkg.Records) != 1 {
		t.Fatalf("record package: %v\n%s", err, body)
	}
	return pkg.Records[0].CompiledRelease
}

// TestCompetitionToContract follows a call-off from publication to its
// contracts' end: every output validates against the OCDS 1.1 schemas at
// every step, the releases appear at their moments with stable IDs, the
// call-off names its framework's OCID, a contract names the national
// contract it replaces, and the record's compiled release holds the
// latest of everything.
func TestCompetitionToContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		ocid := x.pub.OCID(x.c.ID)
		if ocid != "ocds-test01-"+x.c.ID {
			t.Fatalf("ocid %s", ocid)
		}

		// A draft is not published; nor is an OCID of another publisher.
		draft := x.Ready(t, domaintest.CompetitionInput("SWL-EPR-DRAFT"))
		for _, o := range []string{x.pub.OCID(draft.ID), "ocds-other1-" + x.c.ID, "nonsense"} {
			if _, err := x.pub.ReleasePackage(ctx, o); !errors.Is(err, ocds.ErrNotFound) {
				t.Fatalf("release package of %s: %v", o, err)
			}
		}

		out := x.outputs(t)
		list, err := x.pub.Releases(ctx, ocid)
		if err != nil {
			t.Fatal(err)
		}
		if got := tags(list); !slices.Equal(got, []string{"tender"}) {
			t.Fatalf("after publication: %v", got)
		}
		tender := list[0]
		if tender.Buyer == nil || tender.Buyer.ID != "GB-NHS-RJ7" || tender.Tender.ProcuringEntity.ID != "GB-NHS-RJ7" ||
			tender.Tender.TenderPeriod.EndDate != "2027-03-15T12:00:00Z" || len(tender.Tender.Items) != 5 {
			t.Fatalf("tender %s", out["competition release "+tender.ID])
		}
		var buyers []string
		for _, p := range tender.Parties {
			if slices.Contains(p.Roles, "buyer") {
				buyers = append(buyers, p.ID)
			}
		}
		if !slices.Equal(buyers, []string{"GB-NHS-RJ7", "GB-NHS-RJ1"}) {
			t.Fatalf("buyers %v", buyers)
		}
		rp := tender.RelatedProcesses
		if len(rp) != 1 || rp[0].Relationship[0] != "framework" || rp[0].Scheme != "ocid" || rp[0].Identifier != x.pub.OCID(x.Framework.ID) {
			t.Fatalf("related processes %+v", rp)
		}
		fw, err := x.pub.Releases(ctx, x.pub.OCID(x.Framework.ID))
		if err != nil {
			t.Fatal(err)
		}
		if got := tags(fw); !slices.Equal(got, []string{"tender", "award", "awardUpdate"}) {
			t.Fatalf("framework releases %v", got)
		}
		if a := fw[1].Awards; len(a) != 1 || len(a[0].Suppliers) != 2 || a[0].RelatedLots[0] != x.Lot1.ID || a[0].Value != nil {
			t.Fatalf("framework award %+v", a)
		}
		if !fw[0].Tender.Techniques.HasFrameworkAgreement || len(fw[0].Tender.Lots) != 2 {
			t.Fatalf("framework tender %+v", fw[0].Tender)
		}

		// A deadline extended after publication is a tender update; the
		// tender release keeps the deadline as published.
		x.Clock.Set(x.Clock.Now().Add(24 * time.Hour))
		if err := x.Competitions.ExtendDeadline(ctx, x.Aisha, x.c.ID, competition.DeadlineChange{
			SubmissionDeadline: domaintest.At(2027, 3, 22, 12, 0), Reason: "More time for the hosting schedule", Version: x.Reload(t, x.c.ID).Version,
		}); err != nil {
			t.Fatal(err)
		}
		x.c = x.Reload(t, x.c.ID)
		list, err = x.pub.Releases(ctx, ocid)
		if err != nil {
			t.Fatal(err)
		}
		if got := tags(list); !slices.Equal(got, []string{"tender", "tenderUpdate"}) || list[0].ID != tender.ID ||
			list[0].Tender.TenderPeriod.EndDate != "2027-03-15T12:00:00Z" || list[1].Tender.TenderPeriod.EndDate != "2027-03-22T12:00:00Z" ||
			list[1].Tender.Amendments[0].Rationale != "More time for the hosting schedule" {
			t.Fatalf("after the extension: %v %+v", got, list[len(list)-1].Tender)
		}

		x.bid(t)
		x.evaluate(t)
		if got := tags(must(x.pub.Releases(ctx, ocid))); !slices.Equal(got, []string{"tender", "tenderUpdate"}) {
			t.Fatalf("before the award decision is sent: %v", got)
		}
		x.send(t)
		x.outputs(t)
		list = must(x.pub.Releases(ctx, ocid))
		if got := tags(list); !slices.Equal(got, []string{"tender", "tenderUpdate", "award"}) {
			t.Fatalf("after the award decision: %v", got)
		}
		a := list[2]
		wantTotal := float64(winnerPence*(unitsRJ7+unitsRJ1)) / 100
		if len(a.Awards) != 1 || a.Awards[0].Value.Amount != wantTotal || a.Awards[0].Value.Currency != "GBP" || a.Awards[0].Status != "pending" ||
			a.Awards[0].Suppliers[0].ID != "GB-COH-"+companiesHouse(t, x, x.Sarah.OrgID) || *a.Tender.NumberOfTenderers != 2 {
			t.Fatalf("award %+v", a)
		}

		made := x.confirm(t)
		rj7 := made[0]
		// The contract replaces St George's deployment of a national contract.
		now := x.Clock.Now()
		nc := exit.NationalContract{ID: "nc-1", Reference: "LSP-LONDON", SupplierName: "BT", Area: "Y56", ExpiresOn: domaintest.At(2027, 10, 31, 0, 0), Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := db.Create(&nc).Error; err != nil {
			t.Fatal(err)
		}
		d := exit.Deployment{ID: "dep-1", NationalContractID: nc.ID, OrganisationID: x.RJ7, SystemType: exit.SystemEPR, Product: "Millennium",
			ContractID: &rj7.ID, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := db.Omit("NationalContract", "Organisation").Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		if err := x.Contracts.Sign(ctx, x.Aisha, rj7.ID, now, rj7.Version); err != nil {
			t.Fatal(err)
		}
		list = must(x.pub.Releases(ctx, ocid))
		if got := tags(list); !slices.Equal(got, []string{"tender", "tenderUpdate", "award", "awardUpdate", "contract", "contract", "contractUpdate"}) {
			t.Fatalf("after confirmation and signature: %v", got)
		}
		var k ocds.Contract
		for _, r := range list {
			if r.Tag[0] == "contractUpdate" {
				k = r.Contracts[0]
			}
		}
		if k.ID != rj7.ID || k.DateSigned == "" || k.Status != "pending" || k.Value.Amount != float64(winnerPence*unitsRJ7)/100 ||
			len(k.RelatedProcesses) != 1 || k.RelatedProcesses[0].Relationship[0] != "prior" || k.RelatedProcesses[0].Identifier != "LSP-LONDON" {
			t.Fatalf("signed contract %+v", k)
		}

		// The start date comes, then the contract runs out.
		x.Clock.Set(domaintest.At(2027, 6, 2, 9, 0))
		out = x.outputs(t)
		list = must(x.pub.Releases(ctx, ocid))
		if got := tags(list)[len(list)-1]; got != "contractUpdate" || list[len(list)-1].Contracts[0].Status != "active" {
			t.Fatalf("after the start: %v", tags(list))
		}
		ids := map[string]bool{}
		for _, r := range list {
			if ids[r.ID] {
				t.Fatalf("release ID %s twice", r.ID)
			}
			ids[r.ID] = true
		}
		again := must(x.pub.Releases(ctx, ocid))
		for i := range list {
			if again[i].ID != list[i].ID {
				t.Fatalf("release IDs change between reads: %s, %s", list[i].ID, again[i].ID)
			}
		}
		cr := compiled(t, out["competition record"])
		if cr["tag"].([]any)[0] != "compiled" || cr["tender"].(map[string]any)["tenderPeriod"].(map[string]any)["endDate"] != "2027-03-22T12:00:00Z" {
			t.Fatalf("compiled release %v", cr)
		}
		contractsOut := cr["contracts"].([]any)
		if len(contractsOut) != 2 {
			t.Fatalf("compiled contracts %v", contractsOut)
		}
		for _, c := range contractsOut {
			c := c.(map[string]any)
			if c["id"] == rj7.ID && (c["status"] != "active" || c["dateSigned"] == nil || c["relatedProcesses"] == nil) {
				t.Fatalf("compiled St George's contract %v", c)
			}
		}
		if aw := cr["awards"].([]any)[0].(map[string]any); aw["status"] != "active" || aw["value"] == nil {
			t.Fatalf("compiled award %v", aw)
		}
		x.Clock.Set(domaintest.At(2032, 6, 2, 9, 0))
		x.outputs(t)
		list = must(x.pub.Releases(ctx, ocid))
		if got := tags(list); got[len(got)-1] != "contractTermination" || got[len(got)-2] != "contractTermination" {
			t.Fatalf("after the contracts ran out: %v", got)
		}
	})
}

func must(list []ocds.Release, err error) []ocds.Release {
	if err != nil {
		panic(err)
	}
	return list
}

func companiesHouse(t *testing.T, x *fixture, orgID string) string {
	t.Helper()
	var n string
	if err := x.DB.Table("organisations").Select("companies_house_number").Where("id = ?", orgID).Scan(&n).Error; err != nil || n == "" {
		t.Fatalf("companies house number of %s: %q %v", orgID, n, err)
	}
	return n
}

// TestCancelledCompetition: a cancellation is a tender cancellation release.
func TestCancelledCompetition(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		x := setup(t, db)
		x.Clock.Set(x.Clock.Now().Add(time.Hour))
		if err := x.Competitions.Cancel(ctx, x.Aisha, x.c.ID, "The trusts' needs changed"); err != nil {
			t.Fatal(err)
		}
		x.outputs(t)
		list := must(x.pub.Releases(ctx, x.pub.OCID(x.c.ID)))
		if got := tags(list); !slices.Equal(got, []string{"tender", "tenderCancellation"}) || list[1].Tender.Status != "cancelled" {
			t.Fatalf("releases %v", got)
		}
		if strings.Contains(string(mustJSON(t, list)), "needs changed") {
			t.Fatal("the cancellation reason is published")
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
