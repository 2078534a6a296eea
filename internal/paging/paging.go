// Package paging splits a long list into numbered pages, the one rule
// every paged list in the portal follows: pages count from 1, there is
// always at least one, and a page asked for that does not exist shows the
// nearest that does.
package paging

import "fmt"

// Pager says which page of a list is shown.
type Pager struct {
	// Matching is how many items the whole list holds; Page is the page
	// shown (from 1) of Pages (at least 1), each of Size items.
	Matching, Page, Pages, Size int
}

// Of is page wanted of a list of matching items, size to a page.
func Of(matching, size, wanted int) Pager {
	pages := max(1, (matching+size-1)/size)
	return Pager{Matching: matching, Page: min(max(wanted, 1), pages), Pages: pages, Size: size}
}

// Offset is how many items come before the page.
func (p Pager) Offset() int { return (p.Page - 1) * p.Size }

// Bounds are the page's first and last-but-one indexes in a slice of the
// whole list.
func (p Pager) Bounds() (from, to int) {
	from = min(p.Offset(), p.Matching)
	return from, min(from+p.Size, p.Matching)
}

// Showing says which items the page shows ("Showing 26 to 50 of 90"), or
// "" when the list is empty.
func (p Pager) Showing() string {
	if p.Matching == 0 {
		return ""
	}
	from, to := p.Bounds()
	return fmt.Sprintf("Showing %d to %d of %d", from+1, to, p.Matching)
}
