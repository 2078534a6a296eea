package ocds_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// money is every way a price of pence might be written in the JSON.
func money(pence int64) []string {
	return []string{fmt.Sprint(pence), fmt.Sprintf("%.2f", float64(pence)/100), strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", float64(pence)/100), "0"), ".")}
}

// absent fails when any output holds any of the strings.
func absent(t *testing.T, outputs map[string][]byte, what string, needles ...string) {
	t.Helper()
	for name, body := range outputs {
		for _, n := range needles {
			if strings.Contains(string(body), n) {
				t.Fatalf("%s (%q) appears in %s:\n%s", what, n, name, body)
			}
		}
	}
}

// TestSealedContentNeverPublished: with bids submitted, opened, marked,
// moderated, recommended and approved, nothing of them is in any output
// before the award decision is sent: no answer, no price, no total, no
// count of bids, no bidder. After it, the answers and the losing bid's
// prices are still nowhere, the winning bid's unit price nowhere, and the
// winning total only in the award; the tender release carries no value.
func TestSealedContentNeverPublished(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := setup(t, db)
		x.bid(t)
		winnerTotal := int64(winnerPence * (unitsRJ7 + unitsRJ1))
		loserTotal := int64(loserPence * (unitsRJ7 + unitsRJ1))
		sealed := func(t *testing.T, out map[string][]byte) {
			t.Helper()
			absent(t, out, "bid text", winnerText, loserText, "Quokka", "Narwhal")
			absent(t, out, "the losing bid's price", money(loserPence)...)
			absent(t, out, "the losing bid's total", append(money(loserTotal), money(loserPence*unitsRJ7)...)...)
			absent(t, out, "the winning unit price", money(winnerPence)...)
			absent(t, out, "marks", "justification", "Against the descriptors", "rationale\":\"Highest")
		}
		competitionOnly := func(out map[string][]byte) map[string][]byte {
			m := map[string][]byte{}
			for name, body := range out {
				if strings.HasPrefix(name, "competition") {
					m[name] = body
				}
			}
			return m
		}
		check := func(t *testing.T) {
			t.Helper()
			out := x.outputs(t)
			sealed(t, out)
			absent(t, out, "the winning total before the award", append(money(winnerTotal), money(winnerPence*unitsRJ7)...)...)
			absent(t, out, "the number of tenderers", "numberOfTenderers", "tenderers")
			// Meridian and Northgate are named in the framework's award;
			// the competition names no bidder before its award.
			absent(t, competitionOnly(out), "a bidder", "Meridian", "Northgate", "supplier")
		}
		check(t) // submitted
		x.evaluate(t)
		check(t) // opened, marked, moderated, recommended, approved

		x.send(t)
		out := x.outputs(t)
		sealed(t, out)
		tenders := map[string][]byte{}
		for name, body := range out {
			if strings.Contains(name, "release") && strings.Contains(name, "-tender") {
				tenders[name] = body
			}
		}
		if len(tenders) == 0 {
			t.Fatal("no tender release among the outputs")
		}
		absent(t, tenders, "a value in the tender release", "value", "amount", money(winnerTotal)[1])
		award := string(out["competition release "+x.pub.OCID(x.c.ID)+"-award-"+suffixOf(t, out, "-award-")])
		if !strings.Contains(award, `"value":{"amount":`+money(winnerTotal)[1]) {
			t.Fatalf("award release without the winning total %s:\n%s", money(winnerTotal)[1], award)
		}

		x.confirm(t)
		sealed(t, x.outputs(t))
	})
}

// suffixOf is the rest of the name of the competition release whose ID
// holds marker.
func suffixOf(t *testing.T, out map[string][]byte, marker string) string {
	t.Helper()
	for name := range out {
		if strings.HasPrefix(name, "competition release ") {
			if _, after, ok := strings.Cut(name, marker); ok {
				return after
			}
		}
	}
	t.Fatalf("no release with %s", marker)
	return ""
}
