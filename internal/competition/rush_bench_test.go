package competition_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// BenchmarkBidRush200 has 200 suppliers each store a 1 MB document in the
// encrypted document store, attach it to a complete bid, save the bid's
// working copy and submit it, starting at random moments within the same
// 10 seconds (domaintest.RushBurst: denser than the HTTP rush's 500 in 60
// seconds), on PostgreSQL. It reports the submission latency (document,
// draft and submit, as a supplier waits for them) at p50, p99 and the
// worst, how many bids were lost (expected minus sealed), and how many
// errors there were; both must be 0, or the benchmark fails.
func BenchmarkBidRush200(b *testing.B) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		b.Skip("the bid rush runs on PostgreSQL: set " + storetest.EnvPostgres)
	}
	rush := domaintest.RushBurst
	for range b.N {
		b.StopTimer()
		db := storetest.Open(b, store.Postgres)
		x := setup(b, db)
		suppliers := x.appointMore(b, rush.Suppliers)
		c := x.published(b, input("SWL-EPR-RUSH"))
		bids := make([]competition.BidContent, len(suppliers))
		docs := make([][]byte, len(suppliers))
		for i, who := range suppliers {
			bids[i] = x.completeBid(b, c, who, int64(1000+i))
			docs[i] = domaintest.RushPDF(uint64(i))
		}
		ctx := context.Background()
		b.StartTimer()
		res := rush.Run(nil, func(i int) error {
			who := suppliers[i]
			doc, err := x.docs.Put(ctx, who, documents.Upload{OrganisationID: who.OrgID, OwnerType: "library",
				Name: fmt.Sprintf("case-study-%03d.pdf", i), Body: bytes.NewReader(docs[i])})
			if err != nil {
				return fmt.Errorf("store document: %w", err)
			}
			bid := bids[i]
			bid.Documents = []framework.AttachedDocument{{ID: doc.ID, Name: doc.Name, SHA256: doc.SHA256, Size: doc.SizeBytes}}
			if err := x.s.SaveBidDraft(ctx, who, c.ID, who.OrgID, bid, 0); err != nil {
				return fmt.Errorf("save draft: %w", err)
			}
			st, err := x.s.BidStatus(ctx, who, c.ID, who.OrgID)
			if err != nil {
				return fmt.Errorf("bid status: %w", err)
			}
			if _, err := x.s.SubmitBid(ctx, who, c.ID, who.OrgID, st.Version); err != nil {
				return fmt.Errorf("submit: %w", err)
			}
			return nil
		})
		b.StopTimer()
		sealedBids, err := x.s.Sealed.Count(ctx, competition.BidBox(c))
		if err != nil {
			b.Fatal(err)
		}
		failed := res.Failed()
		for _, err := range failed[:min(len(failed), 3)] {
			b.Log(err)
		}
		b.ReportMetric(domaintest.PercentileMS(res.Took, 0.50), "p50-ms")
		b.ReportMetric(domaintest.PercentileMS(res.Took, 0.99), "p99-ms")
		b.ReportMetric(domaintest.PercentileMS(res.Took, 1.00), "max-ms")
		b.ReportMetric(float64(rush.Suppliers-sealedBids), "lost")
		b.ReportMetric(float64(len(failed)), "errors")
		b.ReportMetric(res.Elapsed.Seconds(), "rush-s")
		b.Logf("%d suppliers, %d MB documents, started within %s: %d sealed, %d errors, all done in %s",
			rush.Suppliers, domaintest.RushDocBytes/1_000_000, rush.Window, sealedBids, len(failed), res.Elapsed.Round(time.Millisecond))
		if sealedBids != rush.Suppliers || len(failed) > 0 {
			b.Fatalf("%d of %d bids sealed with %d errors", sealedBids, rush.Suppliers, len(failed))
		}
	}
}
