package framework_test

import (
	"math"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/framework"
)

// Fuzz tests for money typed in pounds, by suppliers pricing bids and
// buyers recording contract values. The seed corpora are in
// testdata/fuzz/<FuzzName>/.

// An amount ParsePounds accepts is whole, non-negative pence that reads
// the same when typed as the portal shows it, or without its "£" and
// commas.
func FuzzParsePounds(f *testing.F) {
	f.Add("£1,250.50")
	f.Add("1250.5")
	f.Add("-5")
	f.Fuzz(func(t *testing.T, typed string) {
		pence, ok := framework.ParsePounds(typed)
		if !ok {
			if pence != 0 {
				t.Fatalf("refused %q but gave %d", typed, pence)
			}
			return
		}
		if pence < 0 {
			t.Fatalf("%q read as %d pence", typed, pence)
		}
		shown := framework.Pounds(pence)
		if again, ok := framework.ParsePounds(shown); !ok || again != pence {
			t.Fatalf("%q read as %d pence, shown as %q, reads back as %d, %v", typed, pence, shown, again, ok)
		}
		plain := strings.ReplaceAll(strings.TrimPrefix(shown, "£"), ",", "")
		if again, ok := framework.ParsePounds(plain); !ok || again != pence {
			t.Fatalf("%q reads as %d, %v, want %d", plain, again, ok, pence)
		}
	})
}

// Every amount from nothing up to the largest ParsePounds accepts is shown
// in a form that reads back as the same pence; a negative amount shown
// (a credit) is never read as a price.
func FuzzPounds(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(125050))
	f.Add(int64(-1))
	f.Add(int64(math.MaxInt64/100*100 - 1))
	f.Fuzz(func(t *testing.T, pence int64) {
		shown := framework.Pounds(pence)
		got, ok := framework.ParsePounds(shown)
		switch {
		case pence < 0:
			if ok {
				t.Fatalf("%d shown as %q reads as the price %d", pence, shown, got)
			}
		case pence <= math.MaxInt64/100*100-1:
			if !ok || got != pence {
				t.Fatalf("%d shown as %q reads back as %d, %v", pence, shown, got, ok)
			}
		}
	})
}
