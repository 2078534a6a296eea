// Package ocds publishes the portal's procedures as open data in the Open
// Contracting Data Standard 1.1: releases (tender, award, contract and
// their updates), records compiled from them, and release and record
// packages.
//
// There is no table of releases: every release is derived from the stored
// data and its timestamps whenever it is asked for, so the same state
// always gives the same release, with the same ID, and nothing can be
// published before its moment. A framework and a mini-competition are each
// one contracting process (one OCID); a call-off names its framework as a
// related process, and a contract names the national contract it
// replaces.
//
// What is sealed or confidential is never read here: bid content, bid
// prices, marks, documents. The only money published is the winning bid's
// total once the award decision has been sent (from the moderated totals,
// not from the sealed box) and the contracts' values. Draft procedures are
// not published at all.
package ocds

import (
	"errors"
	"strings"
	"time"

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

// Version is the OCDS version the packages declare.
const Version = "1.1"

// PublisherName is the publisher named in every package.
const PublisherName = "NHS Procurement Portal"

// License is the licence the data is published under.
const License = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

// Extensions are the OCDS extensions whose fields the releases use: lots
// (tender.lots, awards.relatedLots) and techniques
// (tender.techniques.hasFrameworkAgreement).
var Extensions = []string{
	"https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
	"https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/master/extension.json",
}

// PageSize is how many procedures a page of GET /ocds/releases holds.
const PageSize = 50

// ErrNotFound is returned for an OCID that names no published procedure
// of this portal.
var ErrNotFound = errors.New("no published procedure has this OCID")

// OCID is the Open Contracting ID of the procedure (framework or
// competition) with the ID.
func (p *Publisher) OCID(procedureID string) string { return p.Prefix + "-" + procedureID }

// procedureID is the procedure ID in ocid, or "" when ocid does not carry
// this portal's prefix.
func (p *Publisher) procedureID(ocid string) string {
	id, ok := strings.CutPrefix(ocid, p.Prefix+"-")
	if !ok {
		return ""
	}
	return id
}

// url is the public address of path.
func (p *Publisher) url(path string) string { return strings.TrimRight(p.BaseURL, "/") + path }

// ReleasesURL is the address of the release package of one procedure.
func (p *Publisher) ReleasesURL(ocid string) string { return p.url("/ocds/releases/" + ocid) }

// RecordURL is the address of the record package of one procedure.
func (p *Publisher) RecordURL(ocid string) string { return p.url("/ocds/records/" + ocid) }

// stamp is a moment as OCDS dates are written: RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// suffix is a moment as release IDs carry it: compact and stable.
func suffix(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// pounds is pence as the amount OCDS values carry.
func pounds(pence int64) *Value {
	return &Value{Amount: float64(pence) / 100, Currency: "GBP"}
}
