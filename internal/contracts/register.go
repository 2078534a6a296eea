package contracts

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhsprocure/portal/internal/csvcell"
	"github.com/nhsprocure/portal/internal/paging"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// ExpiryWindows are the windows, in calendar months before a contract
// ends, in which the register flags it and its trust is told (see
// SendExpiryNotices), narrowest first.
var ExpiryWindows = []int{6, 12, 18}

// Window is the narrowest expiry window the contract is in at now: 6, 12
// or 18 when it ends within that many calendar months of now, 0 when it
// ends later or has already ended or been terminated. Months are counted
// in UK time, so a change of clocks never moves a contract between
// windows.
func (c Contract) Window(now time.Time) int {
	switch c.State(now) {
	case StateExpired, StateTerminated:
		return 0
	}
	ends := c.Expires()
	for _, months := range ExpiryWindows {
		if !ends.After(monthsAfter(now, months)) {
			return months
		}
	}
	return 0
}

// WindowLabel is how the register names an expiry window.
func WindowLabel(months int) string {
	if months == 0 {
		return ""
	}
	return fmt.Sprintf("Ends within %d months", months)
}

// monthsAfter is t moved on by months calendar months in UK time.
func monthsAfter(t time.Time, months int) time.Time {
	return t.In(uktime.Location).AddDate(0, months, 0).UTC()
}

// RegisterPageSize is how many contracts a page of the register shows.
const RegisterPageSize = 50

// Scope is whose contracts a reader of the register may see, decided by
// the organisation they act for (ScopeOf), never by the request.
type Scope struct {
	// All is every contract in the portal.
	All bool
	// ConsortiumID: the contracts of the consortium's current member
	// trusts (those that have not left).
	ConsortiumID string
	// TrustID: the trust's own contracts, as the buyer.
	TrustID string
	// SupplierID: the supplier's own contracts.
	SupplierID string
}

// ScopeOf is the scope of someone acting for o: every contract for the
// national programme and the platform operator (administrators and
// auditors), a consortium's member trusts', a trust's or a supplier's own.
// Any other kind of organisation sees nothing.
func ScopeOf(o orgs.Organisation) Scope {
	switch o.Kind {
	case orgs.KindNational, orgs.KindPlatform:
		return Scope{All: true}
	case orgs.KindConsortium:
		return Scope{ConsortiumID: o.ID}
	case orgs.KindTrust:
		return Scope{TrustID: o.ID}
	case orgs.KindSupplier:
		return Scope{SupplierID: o.ID}
	}
	return Scope{}
}

// apply limits a query on contracts to the scope.
func (sc Scope) apply(db *gorm.DB) *gorm.DB {
	switch {
	case sc.All:
		return db
	case sc.ConsortiumID != "":
		return db.Where("contracts.organisation_id IN (?)",
			db.Session(&gorm.Session{NewDB: true}).Table("consortium_members").Select("trust_id").
				Where("consortium_id = ? AND left_on IS NULL", sc.ConsortiumID))
	case sc.TrustID != "":
		return db.Where("contracts.organisation_id = ?", sc.TrustID)
	case sc.SupplierID != "":
		return db.Where("contracts.supplier_org_id = ?", sc.SupplierID)
	}
	return db.Where("1 = 0")
}

// RegisterFilter narrows the register within the reader's scope.
type RegisterFilter struct {
	// TrustID and SupplierID keep the contracts of one buying trust or one
	// supplier ("" for any).
	TrustID    string
	SupplierID string
	// Window keeps the contracts ending within that many months from now
	// (6, 12 or 18); 0 keeps every contract.
	Window int
	// State keeps the contracts in one state (StatePending, ...); "" any.
	State string
	// Page is the page wanted, from 1; it is brought within the pages
	// there are.
	Page int
}

// Field names of the register filter's errors, as its form names them.
const (
	FieldWindow = "window"
	FieldState  = "state"
)

// RegisterStates are the states the register filters by, in the order
// its form offers them.
var RegisterStates = []string{StatePending, StateActive, StateExpired, StateTerminated}

// Check refuses a window or state not on the lists, with field errors.
func (f RegisterFilter) Check() error {
	var v validate.Errors
	if f.Window != 0 && !slices.Contains(ExpiryWindows, f.Window) {
		v.Add(FieldWindow, "Choose when the contracts end from the list")
	}
	if f.State != "" && !slices.Contains(RegisterStates, f.State) {
		v.Add(FieldState, "Choose a status from the list")
	}
	return v.Err()
}

// keep reports whether a row passes the filter's window and state.
func (f RegisterFilter) keep(r RegisterRow) bool {
	if f.State != "" && r.State != f.State {
		return false
	}
	return f.Window == 0 || (r.Window != 0 && r.Window <= f.Window)
}

// RegisterRow is a contract in the register with its state and expiry
// window now.
type RegisterRow struct {
	Contract
	State string
	// Window is the narrowest expiry window it is in (see
	// Contract.Window), 0 for none.
	Window int
}

// RegisterCounts counts the contracts of the reader's scope (with the
// trust and supplier filters, whatever the window and state filters) by
// where they stand: the expiry windows are exclusive, so a contract
// ending within 6 months counts in Within6 only.
type RegisterCounts struct {
	Within6, Within12, Within18 int
	// Later: neither ended nor terminated, ending after 18 months.
	Later      int
	Expired    int
	Terminated int
	Total      int
}

func (n *RegisterCounts) add(r RegisterRow) {
	n.Total++
	switch {
	case r.State == StateExpired:
		n.Expired++
	case r.State == StateTerminated:
		n.Terminated++
	case r.Window == 6:
		n.Within6++
	case r.Window == 12:
		n.Within12++
	case r.Window == 18:
		n.Within18++
	default:
		n.Later++
	}
}

// Choice is an organisation a filter offers.
type Choice struct {
	ID   string
	Name string
}

// Register is one page of the register.
type Register struct {
	Rows []RegisterRow
	// Pager says which page of the contracts passing the filter this is.
	paging.Pager
	Counts RegisterCounts
	// Trusts and Suppliers are the buying trusts and suppliers of the
	// contracts in the scope, by name, for the filters.
	Trusts    []Choice
	Suppliers []Choice
}

// lightColumns are what deciding a contract's state, window and order
// takes: the register reads only these for every contract in scope, and
// everything else for the page shown.
const lightColumns = "id, reference, organisation_id, supplier_org_id, start_date, end_date, extended_months, signed_at, status"

// Register is the contract register: the contracts in scope passing the
// filter, soonest ending first (extensions included), then by reference,
// one page at a time with their buying trusts and suppliers, the counts by
// expiry window and the filters' choices. It takes the same few queries
// however many contracts there are: the window and state come from the
// clock, so the few columns they need are read for every contract in
// scope and the rest only for the page. A filter naming an unknown window
// or state is refused with field errors.
func (s *Service) Register(ctx context.Context, scope Scope, f RegisterFilter) (*Register, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	db := s.DB.WithContext(ctx)
	rows, counts, err := s.matching(db.Select(lightColumns), scope, f)
	if err != nil {
		return nil, err
	}
	out := &Register{Pager: paging.Of(len(rows), RegisterPageSize, f.Page), Counts: counts}
	from, to := out.Bounds()
	page := rows[from:to]
	if len(page) > 0 {
		ids := make([]string, len(page))
		for i, r := range page {
			ids[i] = r.ID
		}
		var full []Contract
		if err := withParties(db).Where("id IN ?", ids).Find(&full).Error; err != nil {
			return nil, fmt.Errorf("read register page: %w", err)
		}
		byID := make(map[string]Contract, len(full))
		for _, c := range full {
			c.utc()
			byID[c.ID] = c
		}
		out.Rows = make([]RegisterRow, len(page))
		for i, r := range page {
			out.Rows[i] = RegisterRow{Contract: byID[r.ID], State: r.State, Window: r.Window}
		}
	}
	if out.Trusts, err = choices(db, scope, "organisation_id"); err != nil {
		return nil, err
	}
	if out.Suppliers, err = choices(db, scope, "supplier_org_id"); err != nil {
		return nil, err
	}
	return out, nil
}

// matching reads the contracts in scope of the filter's trust and
// supplier through q, counts them and returns those passing the rest of
// the filter, in the register's order.
func (s *Service) matching(q *gorm.DB, scope Scope, f RegisterFilter) ([]RegisterRow, RegisterCounts, error) {
	q = scope.apply(q.Model(&Contract{}))
	if f.TrustID != "" {
		q = q.Where("contracts.organisation_id = ?", f.TrustID)
	}
	if f.SupplierID != "" {
		q = q.Where("contracts.supplier_org_id = ?", f.SupplierID)
	}
	var all []Contract
	if err := q.Find(&all).Error; err != nil {
		return nil, RegisterCounts{}, fmt.Errorf("read register: %w", err)
	}
	now := s.Clock.Now()
	var counts RegisterCounts
	rows := make([]RegisterRow, 0, len(all))
	for _, c := range all {
		c.utc()
		r := RegisterRow{Contract: c, State: c.State(now), Window: c.Window(now)}
		counts.add(r)
		if f.keep(r) {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b RegisterRow) int {
		return cmp.Or(a.Expires().Compare(b.Expires()), strings.Compare(a.Reference, b.Reference))
	})
	return rows, counts, nil
}

// choices lists, by name, the organisations named in column of the
// contracts in scope.
func choices(db *gorm.DB, scope Scope, column string) ([]Choice, error) {
	var out []Choice
	in := scope.apply(db.Session(&gorm.Session{NewDB: true}).Model(&Contract{})).Select(column)
	if err := db.Table("organisations").Select("id, name").Where("id IN (?)", in).Order("name, id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list register %s choices: %w", column, err)
	}
	return out, nil
}

// RegisterColumns are the headings of the register's CSV export.
var RegisterColumns = []string{"Reference", "Title", "Buying trust", "ODS code", "Supplier", "Value (£)",
	"Start date", "Last day", "Status", "Ends within (months)"}

// RegisterCSV writes every contract in scope passing the filter (all
// pages) as CSV, in the register's order: UTF-8 with a byte order mark
// and CRLF line ends, as spreadsheets expect; dates as YYYY-MM-DD and
// values in pounds without separators. Cells a spreadsheet would run as
// formulas (organisation names are typed in by people) are escaped.
func (s *Service) RegisterCSV(ctx context.Context, scope Scope, f RegisterFilter, w io.Writer) error {
	if err := f.Check(); err != nil {
		return err
	}
	rows, _, err := s.matching(withParties(s.DB.WithContext(ctx)), scope, f)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("write register CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(RegisterColumns); err != nil {
		return fmt.Errorf("write register CSV: %w", err)
	}
	for _, r := range rows {
		window := ""
		if r.Window != 0 {
			window = strconv.Itoa(r.Window)
		}
		rec := []string{r.Reference, r.Title, r.Organisation.Name, r.Organisation.ODS(), r.Supplier.Name,
			fmt.Sprintf("%d.%02d", r.ValuePence/100, r.ValuePence%100), dateValue(r.StartDate), dateValue(r.LastDay()),
			StateLabel(r.State), window}
		for i := range rec {
			rec[i] = csvcell.Escape(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write register CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write register CSV: %w", err)
	}
	return nil
}
