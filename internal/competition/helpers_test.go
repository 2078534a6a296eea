package competition_test

import (
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// The portal's notifier must fit the interface the package asks for.
var _ competition.Notifier = (*notify.Notifier)(nil)

// live is when the fixture's framework is live (domaintest.LiveAt).
var live = domaintest.LiveAt

func at(y int, m time.Month, d, h, min int) time.Time { return domaintest.At(y, m, d, h, min) }

// fixture is domaintest.Live under the short names these tests use: a live
// framework whose lot 1 "Acute EPR" has two appointed suppliers, Meridian
// and Northgate, and whose lot 2 "Hosting" allows direct awards only; a
// competition service wired to the real framework, sealed box and
// notifier services; and the people taking part.
type fixture struct {
	l        *domaintest.Live
	db       *store.DB
	clk      *clock.Manual
	log      *audit.Log
	fw       *framework.Service
	sealed   *sealed.Service
	docs     *documents.Service
	s        *competition.Service
	f        *framework.Framework
	lot1     *framework.Lot
	lot2     *framework.Lot
	tom      audit.Actor // consortium lead
	nadia    audit.Actor // second consortium lead
	ben      audit.Actor // evaluator at St George's (RJ7)
	chloe    audit.Actor // evaluator at Guy's and St Thomas' (RJ1)
	aisha    audit.Actor // trust lead at St George's, the competition's lead
	omar     audit.Actor // trust lead at Guy's and St Thomas', a buying trust but not the lead
	yara     audit.Actor // trust lead at a Yorkshire trust, not a buyer under the framework
	sarah    audit.Actor // supplier user of Meridian
	james    audit.Actor // supplier user of Northgate
	carl     audit.Actor // supplier user of Caldicott, never appointed
	rj7      string
	rj1      string
	outsider string // a Yorkshire trust (RR8)
}

// setup takes a framework live (domaintest.LiveFramework).
func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	l := domaintest.LiveFramework(t, db)
	return &fixture{l: l, db: l.DB, clk: l.Clock, log: l.Log, fw: l.Frameworks, sealed: l.Sealed, docs: l.Docs, s: l.Competitions,
		f: l.Framework, lot1: l.Lot1, lot2: l.Lot2, tom: l.Tom, nadia: l.Nadia, ben: l.Ben, chloe: l.Chloe, aisha: l.Aisha, omar: l.Omar,
		yara: l.Yara, sarah: l.Sarah, james: l.James, carl: l.Carl, rj7: l.RJ7, rj1: l.RJ1, outsider: l.Outsider}
}

// input is a valid competition (domaintest.CompetitionInput).
func input(ref string) competition.CompetitionInput { return domaintest.CompetitionInput(ref) }

// ready creates a competition ready to publish (domaintest.Live.Ready).
func (x *fixture) ready(t testing.TB, in competition.CompetitionInput) *competition.Competition {
	t.Helper()
	return x.l.Ready(t, in)
}

// reload reads the competition afresh.
func (x *fixture) reload(t testing.TB, id string) *competition.Competition {
	t.Helper()
	return x.l.Reload(t, id)
}

// recipients are the users notes went to, in order.
func recipients(ns []domaintest.Note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.UserID
	}
	return out
}

func count(t testing.TB, db *store.DB, table string, where string, args ...any) int64 {
	t.Helper()
	return domaintest.Count(t, db, table, where, args...)
}

func auditCount(t testing.TB, db *store.DB, action, outcome string) int64 {
	t.Helper()
	return count(t, db, "audit_entries", "action = ? AND outcome = ?", action, outcome)
}

func fieldErrors(t testing.TB, err error) *validate.Errors {
	t.Helper()
	return domaintest.FieldErrors(t, err)
}

// wantErrors checks that err carries exactly these field errors.
func wantErrors(t testing.TB, err error, want map[string]string) {
	t.Helper()
	domaintest.WantErrors(t, err, want)
}
