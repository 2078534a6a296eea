package paging_test

import (
	"testing"

	"github.com/nhsprocure/portal/internal/paging"
)

func TestOf(t *testing.T) {
	cases := []struct {
		matching, size, wanted int
		page, pages, from, to  int
		showing                string
	}{
		{0, 25, 1, 1, 1, 0, 0, ""},
		{0, 25, 3, 1, 1, 0, 0, ""},
		{1, 25, 1, 1, 1, 0, 1, "Showing 1 to 1 of 1"},
		{25, 25, 2, 1, 1, 0, 25, "Showing 1 to 25 of 25"},
		{26, 25, 2, 2, 2, 25, 26, "Showing 26 to 26 of 26"},
		{90, 25, 0, 1, 4, 0, 25, "Showing 1 to 25 of 90"},
		{90, 25, -4, 1, 4, 0, 25, "Showing 1 to 25 of 90"},
		{90, 25, 3, 3, 4, 50, 75, "Showing 51 to 75 of 90"},
		{90, 25, 99, 4, 4, 75, 90, "Showing 76 to 90 of 90"},
	}
	for _, c := range cases {
		p := paging.Of(c.matching, c.size, c.wanted)
		from, to := p.Bounds()
		if p.Page != c.page || p.Pages != c.pages || from != c.from || to != c.to || p.Showing() != c.showing || p.Offset() != c.from {
			t.Errorf("Of(%d, %d, %d) = %+v, bounds %d..%d, offset %d, %q; want page %d of %d, %d..%d, %q",
				c.matching, c.size, c.wanted, p, from, to, p.Offset(), p.Showing(), c.page, c.pages, c.from, c.to, c.showing)
		}
	}
}
