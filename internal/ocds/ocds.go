// Package ocds publishes the portal's procedures as open data in the Open
// Contracting Data Standard 1.1.
package ocds

import (
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
)

// Publisher builds the portal's OCDS releases, records and packages.
type Publisher struct {
	DB    *store.DB
	Clock clock.Clock
	// Prefix is the registered OCID prefix ("ocds-abc123").
	Prefix string
	// BaseURL is the portal's public address, for package URIs.
	BaseURL string
}
