package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/paging"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// The buying side of mini-competitions (internal/competition): a trust's
// list of competitions, starting one under a live framework lot, and the
// competition's page (competition_setup.go for the draft's forms,
// competition_changes.go for what changes after publication). Every rule is
// the competition service's; these handlers parse, ask it, and show the
// answer or redirect.

// competitionRow is a competition on a list as the list shows it, with
// the state the clock gives it now. Its fields are the very strings shown:
// html/template finds a field of a flat struct by name directly, where one
// of an embedded struct is searched for, and a call made in the template
// goes through reflection; on a list of 25 rows that was most of the
// page's rendering.
type competitionRow struct {
	ID, Reference, Title, Deadline, StateLabel string
}

func competitionRows(list []competition.Competition, now time.Time) []competitionRow {
	out := make([]competitionRow, len(list))
	for i, c := range list {
		out[i] = competitionRow{ID: c.ID, Reference: c.Reference, Title: c.Title,
			Deadline: ukTime(c.SubmissionDeadline), StateLabel: competition.StateLabel(c.State(now))}
	}
	return out
}

// competitionsView is a page of the trust's competitions.
type competitionsView struct {
	paging.Pager
	Competitions []competitionRow
	CanStart     bool
}

// PageURL links to page n of the list.
func (v *competitionsView) PageURL(n int) string { return "/competitions?page=" + strconv.Itoa(n) }

// competitionsPage lists the competitions of the trust the viewer acts
// for, as lead or as one of the buying trusts.
func (s *Server) competitionsPage(c echo.Context) error {
	list, err := s.Competition.Competitions(c.Request().Context(), viewer(c).ActingOrg.ID, formInt(c.QueryParams(), "page"))
	if err != nil {
		return err
	}
	p := s.page(c, "Mini-competitions")
	p.Data = &competitionsView{Pager: list.Pager, Competitions: competitionRows(list.Competitions, s.Clock.Now()), CanStart: p.Can("competition", "write")}
	return s.renderOK(c, "competitions", p)
}

// callOffLot is a lot of a live framework that the trust the viewer acts
// for may buy under, and that allows further competition.
type callOffLot struct {
	Framework framework.Framework
	Lot       framework.Lot
}

// callOffLots lists the lots the acting trust can run a competition under,
// of one framework when frameworkID is set. What the page offers only: the
// competition service checks all of it again when the draft is created.
func (s *Server) callOffLots(c echo.Context, frameworkID string) ([]callOffLot, error) {
	ctx := c.Request().Context()
	list, err := s.Framework.BuyerFrameworks(ctx, viewer(c).ActingOrg.ID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var out []callOffLot
	for _, b := range list {
		if !b.Eligible() || b.Framework.State(now) != framework.StateLive || (frameworkID != "" && b.Framework.ID != frameworkID) {
			continue
		}
		lots, err := s.Framework.Lots(ctx, b.Framework.ID)
		if err != nil {
			return nil, err
		}
		for _, l := range lots {
			if l.CallOff != framework.CallOffDirect {
				out = append(out, callOffLot{Framework: b.Framework, Lot: l})
			}
		}
	}
	return out, nil
}

// chosenLot finds the lot named by id among callOffLots; any other lot (of
// a framework the trust may not buy under, not live, or direct award only)
// is not found, and the attempt audited.
func (s *Server) chosenLot(c echo.Context, id string) (*callOffLot, error) {
	lots, err := s.callOffLots(c, "")
	if err != nil {
		return nil, err
	}
	for i := range lots {
		if lots[i].Lot.ID == id {
			return &lots[i], nil
		}
	}
	s.auditDenied(c, "competition.create", "framework_lot", id)
	return nil, errNotFound
}

// competitionNew is the start of a competition: without a lot, the choice
// of lot (of one framework with ?framework=); with ?lot=, the form for the
// draft's details and timeline.
func (s *Server) competitionNew(c echo.Context) error {
	id := c.QueryParam("lot")
	if id == "" {
		lots, err := s.callOffLots(c, c.QueryParam("framework"))
		if err != nil {
			return err
		}
		p := s.page(c, "Start a mini-competition")
		p.BackURL = "/competitions"
		p.Data = map[string]any{"View": "choose", "Lots": lots}
		return s.renderOK(c, "competition", p)
	}
	lot, err := s.chosenLot(c, id)
	if err != nil {
		return err
	}
	f := url.Values{"lot": {lot.Lot.ID}, "show_bid_count": {"no"}, "expression_of_interest": {"no"}}
	return s.renderNew(c, http.StatusOK, lot, f, nil)
}

func (s *Server) renderNew(c echo.Context, status int, lot *callOffLot, form url.Values, formErr error) error {
	p := s.formPage(c, "Start a mini-competition", formErr)
	if form != nil {
		p.Form = form
	}
	p.BackURL = "/competitions/new"
	p.Data = map[string]any{
		"View": "new", "Lot": lot, "Regime": lot.Framework.Regime, "Timeline": timelineFields,
		"Earliest": s.Competition.EarliestSubmissionDeadline(lot.Framework.Regime, s.Clock.Now()),
	}
	return s.render(c, status, "competition", p)
}

// competitionCreate creates the draft, run by the trust the viewer acts
// for.
func (s *Server) competitionCreate(c echo.Context) error {
	lot, err := s.chosenLot(c, c.FormValue("lot"))
	if err != nil {
		return err
	}
	f, _ := c.FormParams()
	in, v := competitionInput(f)
	if v.Err() != nil {
		return s.renderNew(c, http.StatusBadRequest, lot, nil, v)
	}
	comp, err := s.Competition.CreateCompetition(c.Request().Context(), actor(c), lot.Lot.ID, viewer(c).ActingOrg.ID, in)
	if _, ok := validate.As(err); ok {
		return s.renderNew(c, http.StatusBadRequest, lot, nil, err)
	}
	if errors.Is(err, competition.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.flash(c, "competition-created")
	return c.Redirect(http.StatusSeeOther, competition.CompetitionPath(comp.ID))
}

// timelineField is one of a competition's dates on a form.
type timelineField struct{ Name, Legend, Label string }

// timelineFields are the dates every competition has, in order, with how
// a form asks for them and how a reader of dateTimeInput names them in an
// error. The expression-of-interest deadline is asked for on its own.
var timelineFields = []timelineField{
	{competition.FieldQuestionDeadline, "Deadline for clarification questions", "The deadline for questions"},
	{competition.FieldSubmissionDeadline, "Submission deadline for bids", "The submission deadline"},
	{competition.FieldEvaluationEnd, "Evaluation ends", "The end of evaluation"},
	{competition.FieldPlannedAward, "Planned award", "The planned award date"},
}

var eoiField = timelineField{competition.FieldEOIDeadline, "Deadline for expressions of interest", "The deadline for expressions of interest"}

// readTimeline reads the dates of a form as UK time into t; a date that
// is not real is a field error. With eoi, the expression-of-interest
// deadline is read too.
func readTimeline(f url.Values, eoi bool, v *validate.Errors) competition.Timeline {
	var t competition.Timeline
	into := map[string]*time.Time{
		competition.FieldEOIDeadline: &t.EOIDeadline, competition.FieldQuestionDeadline: &t.QuestionDeadline,
		competition.FieldSubmissionDeadline: &t.SubmissionDeadline, competition.FieldEvaluationEnd: &t.EvaluationEnd,
		competition.FieldPlannedAward: &t.PlannedAward,
	}
	fields := timelineFields
	if eoi {
		fields = append([]timelineField{eoiField}, fields...)
	}
	for _, d := range fields {
		var ok bool
		if *into[d.Name], ok = dateTimeInput(f, d.Name); !ok {
			v.Add(d.Name, d.Label+" must be a real date and time, for example 15 3 2027 and 17:00")
		}
	}
	return t
}

// weightInput reads a weight: a whole number, or a field error.
func weightInput(f url.Values, field, what string, v *validate.Errors) int {
	n, err := strconv.Atoi(strings.TrimSpace(f.Get(field)))
	if err != nil {
		v.Add(field, "Enter the "+what+" as a whole number from 0 to 100, such as 60")
	}
	return n
}

// competitionInput reads the details and timeline form.
func competitionInput(f url.Values) (competition.CompetitionInput, *validate.Errors) {
	var v validate.Errors
	in := competition.CompetitionInput{
		Reference: f.Get(competition.FieldReference), Title: f.Get(competition.FieldTitle), Description: f.Get(competition.FieldDescription),
		ShowBidCount: f.Get("show_bid_count") == "yes", ExpressionOfInterest: f.Get("expression_of_interest") == "yes",
		Version: formInt(f, "version"),
	}
	in.QualityWeight = weightInput(f, competition.FieldQualityWeight, "quality weight", &v)
	in.PriceWeight = weightInput(f, competition.FieldPriceWeight, "price weight", &v)
	in.Timeline = readTimeline(f, in.ExpressionOfInterest, &v)
	return in, &v
}

// setMoment puts a stored moment into a dateTimeInput's fields, in UK time.
func setMoment(f url.Values, name string, t time.Time) {
	if t.IsZero() {
		return
	}
	setDateInput(f, name, &t)
	f.Set(name+"-time", t.In(uktime.Location).Format("15:04"))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// setTimeline puts the competition's stored dates into a form.
func setTimeline(f url.Values, comp *competition.Competition) {
	if comp.EOIDeadline != nil {
		setMoment(f, competition.FieldEOIDeadline, *comp.EOIDeadline)
	}
	setMoment(f, competition.FieldQuestionDeadline, comp.QuestionDeadline)
	setMoment(f, competition.FieldSubmissionDeadline, comp.SubmissionDeadline)
	setMoment(f, competition.FieldEvaluationEnd, comp.EvaluationEnd)
	setMoment(f, competition.FieldPlannedAward, comp.PlannedAward)
}

// buyerCompetition is a competition reached by a user of one of its buying
// trusts: the stored record, its buying trusts (the lead first) and whether
// the viewer may change it (a trust lead of the lead trust).
type buyerCompetition struct {
	*competition.Competition
	Buyers   []competition.Buyer
	CanWrite bool
}

// LeadName is the lead trust's name.
func (bc *buyerCompetition) LeadName() string {
	for _, b := range bc.Buyers {
		if b.Lead {
			return b.Organisation.Name
		}
	}
	return ""
}

// readCompetition loads the competition in the URL for a user of one of its
// buying trusts (the lead included) allowed to read competitions there. The
// trusts come from the stored record, never from the request; anyone else
// gets 404, so the competition's existence is not revealed, and the attempt
// is audited.
func (s *Server) readCompetition(c echo.Context) (*buyerCompetition, error) {
	comp, err := s.competitionInURL(c)
	if err != nil {
		return nil, err
	}
	return s.buyerCompetition(c, comp)
}

// buyerCompetition is readCompetition for a competition already loaded.
func (s *Server) buyerCompetition(c echo.Context, comp *competition.Competition) (*buyerCompetition, error) {
	bc, allowed, err := s.withBuyers(c, comp)
	if err != nil {
		return nil, err
	}
	if !allowed {
		s.auditDenied(c, "competition.read", "competition", comp.ID)
		return nil, errNotFound
	}
	return bc, nil
}

// competitionInURL loads the competition the URL names; an unknown one is
// 404, audited as a refused read.
func (s *Server) competitionInURL(c echo.Context) (*competition.Competition, error) {
	id := c.Param("id")
	comp, err := s.Competition.Competition(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "competition.read", "competition", id)
		return nil, errNotFound
	}
	return comp, err
}

// withBuyers adds comp's buying trusts and whether the viewer may change
// it (a trust lead of the lead trust); allowed says whether they may read
// it as a user of one of those trusts. It refuses nobody.
func (s *Server) withBuyers(c echo.Context, comp *competition.Competition) (bc *buyerCompetition, allowed bool, err error) {
	buyers, err := s.Competition.BuyersIn(c.Request().Context(), comp)
	if err != nil {
		return nil, false, err
	}
	bc = &buyerCompetition{Competition: comp, Buyers: buyers}
	for i := range buyers {
		allowed = allowed || s.may(c, &buyers[i].Organisation, "competition", "read")
		if buyers[i].Lead {
			bc.CanWrite = s.may(c, &buyers[i].Organisation, "competition", "write")
		}
	}
	return bc, allowed, nil
}

// leadCompetition is readCompetition for a change: the viewer must also be
// a trust lead of the lead trust. A buying trust's other users get 404 and
// the attempt is audited.
func (s *Server) leadCompetition(c echo.Context) (*buyerCompetition, error) {
	bc, err := s.readCompetition(c)
	if err != nil {
		return nil, err
	}
	if !bc.CanWrite {
		s.auditDenied(c, "competition.write", "competition", bc.ID)
		return nil, errNotFound
	}
	return bc, nil
}

func (s *Server) competitionPage(c echo.Context) error {
	bc, err := s.readCompetition(c)
	if err != nil {
		return err
	}
	return s.renderCompetition(c, http.StatusOK, bc, nil, false)
}

// competitionForm is every form's stored values on the competition's page:
// the details and timeline, each buying trust's volumes and sites, and each
// requirement's wording and weight (fields named <field>-<row ID>).
func competitionForm(comp *competition.Competition, buyers []competition.Buyer, reqs []competition.Requirement) url.Values {
	f := url.Values{}
	f.Set(competition.FieldReference, comp.Reference)
	f.Set(competition.FieldTitle, comp.Title)
	f.Set(competition.FieldDescription, comp.Description)
	f.Set(competition.FieldQualityWeight, strconv.Itoa(comp.QualityWeight))
	f.Set(competition.FieldPriceWeight, strconv.Itoa(comp.PriceWeight))
	f.Set("show_bid_count", yesNo(comp.ShowBidCount))
	f.Set("expression_of_interest", yesNo(comp.ExpressionOfInterest))
	f.Set("version", strconv.Itoa(comp.Version))
	setTimeline(f, comp)
	for _, b := range buyers {
		id := b.OrganisationID
		f.Set(competition.FieldVolumes+"-"+id, b.Volumes)
		f.Set(competition.FieldSites+"-"+id, b.Sites)
		if b.Beds != nil {
			f.Set(competition.FieldBeds+"-"+id, strconv.Itoa(*b.Beds))
		}
		if b.Users != nil {
			f.Set(competition.FieldUsers+"-"+id, strconv.Itoa(*b.Users))
		}
		f.Set("version-"+id, strconv.Itoa(b.Version))
	}
	for _, r := range reqs {
		f.Set(competition.FieldForRequirement(r.ID, competition.FieldRequirementText), r.Text)
		f.Set(competition.FieldForRequirement(r.ID, competition.FieldRequirementWeight), strconv.Itoa(r.Weight))
		f.Set("version-"+r.ID, strconv.Itoa(r.Version))
	}
	return f
}

// keepTyped lays what was submitted over the stored values, so the form
// that failed shows what the person typed and every other form what is
// stored.
func keepTyped(c echo.Context, stored url.Values) url.Values {
	typed, _ := c.FormParams()
	for k, v := range typed {
		if k != "_csrf" {
			stored[k] = v
		}
	}
	return stored
}

// termsView is what every page of a competition shows of its terms: the
// requirements, price schedules and tender pack, and the changes since
// publication.
type termsView struct {
	Requirements []competition.Requirement
	// WeightTotal is the scored requirements' weights added up.
	WeightTotal int
	Schedules   []competition.Schedule
	Documents   []competition.Document
	Changes     []changeRow
}

// changeRow is a change after publication as people read it.
type changeRow struct {
	competition.Change
	What, Was, Now string
}

// changeRows writes each change's subject and values in words: a date in
// UK time, a requirement's wording and weight, a document's name.
func changeRows(list []competition.Change) []changeRow {
	legends := map[string]string{eoiField.Name: eoiField.Legend}
	for _, f := range timelineFields {
		legends[f.Name] = f.Legend
	}
	moment := func(v string) string {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return v
		}
		return uktime.MomentWithDay(t) + " (UK time)"
	}
	requirement := func(v string) string {
		var r struct {
			Text   string
			Weight int
		}
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return v
		}
		return r.Text + " (weight " + strconv.Itoa(r.Weight) + ")"
	}
	out := make([]changeRow, len(list))
	for i, ch := range list {
		row := changeRow{Change: ch}
		switch ch.Kind {
		case competition.ChangeDeadline:
			row.What, row.Was, row.Now = legends[ch.Subject], moment(ch.OldValue), moment(ch.NewValue)
		case competition.ChangeRequirement:
			row.What, row.Was, row.Now = "Requirement "+ch.Subject, requirement(ch.OldValue), requirement(ch.NewValue)
		case competition.ChangeDocument:
			row.What, row.Now = "Document added to the tender pack", ch.NewValue
		default:
			row.What, row.Was, row.Now = ch.Subject, ch.OldValue, ch.NewValue
		}
		out[i] = row
	}
	return out
}

func (s *Server) terms(c echo.Context, comp *competition.Competition) (*termsView, error) {
	ctx := c.Request().Context()
	var t termsView
	var err error
	if t.Requirements, err = s.Competition.Requirements(ctx, comp.ID); err != nil {
		return nil, err
	}
	for _, r := range t.Requirements {
		if r.Weighted() {
			t.WeightTotal += r.Weight
		}
	}
	if t.Schedules, err = s.Competition.PriceSchedules(ctx, comp.ID); err != nil {
		return nil, err
	}
	if t.Documents, err = s.Competition.Documents(ctx, comp.ID); err != nil {
		return nil, err
	}
	changes, err := s.Competition.Changes(ctx, comp.ID)
	if err != nil {
		return nil, err
	}
	t.Changes = changeRows(changes)
	return &t, nil
}

// lotOfCompetition is the framework and lot the competition calls off from.
func (s *Server) lotOfCompetition(c echo.Context, comp *competition.Competition) (*callOffLot, error) {
	ctx := c.Request().Context()
	fw, err := s.Framework.Framework(ctx, comp.FrameworkID)
	if err != nil {
		return nil, err
	}
	lots, err := s.Framework.Lots(ctx, fw.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range lots {
		if l.ID == comp.LotID {
			return &callOffLot{Framework: *fw, Lot: l}, nil
		}
	}
	return nil, errors.New("competition's lot is missing from its framework")
}

// renderCompetition shows the competition's page: read only for the buying
// trusts' users, with the set-up forms for the lead while it is a draft and
// the links to its changes after publication. formErr's fields name the
// form that failed; with keep, every form keeps what was typed.
func (s *Server) renderCompetition(c echo.Context, status int, bc *buyerCompetition, formErr error, keep bool) error {
	ctx := c.Request().Context()
	comp := bc.Competition
	now := s.Clock.Now()
	lot, err := s.lotOfCompetition(c, comp)
	if err != nil {
		return err
	}
	t, err := s.terms(c, comp)
	if err != nil {
		return err
	}
	panel, err := s.Competition.Panel(ctx, comp.ID)
	if err != nil {
		return err
	}
	draft := comp.Status == competition.StatusDraft
	data := map[string]any{
		"View": "page", "C": comp, "BC": bc, "Lot": lot, "StateLabel": competition.StateLabel(comp.State(now)), "Draft": draft,
		"Terms": t, "Panel": panel, "Timeline": timelineFields, "CanWrite": bc.CanWrite,
		"Earliest": s.Competition.EarliestSubmissionDeadline(comp.Regime, now),
		"Open":     comp.Status == competition.StatusPublished && now.Before(comp.SubmissionDeadline),
	}
	if comp.Status != competition.StatusDraft {
		invitees, err := s.Competition.Invitees(ctx, comp.ID)
		if err != nil {
			return err
		}
		data["Invitees"] = invitees
	}
	panelOpen := comp.Status != competition.StatusCancelled && comp.OpenedAt == nil
	if bc.CanWrite && panelOpen {
		candidates, err := s.Competition.PanelCandidates(ctx, comp.ID)
		if err != nil {
			return err
		}
		chosen := map[string]bool{}
		for _, m := range panel {
			chosen[m.UserID] = true
		}
		data["Candidates"], data["Chosen"] = candidates, chosen
	}
	if bc.CanWrite && draft {
		addable, err := s.addableTrusts(c, bc)
		if err != nil {
			return err
		}
		lotReqs, err := s.Framework.LotRequirements(ctx, comp.LotID)
		if err != nil {
			return err
		}
		data["Addable"], data["LotRequirements"] = addable, lotReqs
	}
	p := s.formPage(c, comp.Title, formErr)
	p.Form = competitionForm(comp, bc.Buyers, t.Requirements)
	if keep {
		p.Form = keepTyped(c, p.Form)
	}
	p.BackURL = "/competitions"
	p.Data = data
	return s.render(c, status, "competition", p)
}

// addableTrusts lists the trusts that may buy under the framework and are
// not yet buying in the competition: the choice offered to add one.
func (s *Server) addableTrusts(c echo.Context, bc *buyerCompetition) ([]orgs.Organisation, error) {
	fwBuyers, err := s.Framework.Buyers(c.Request().Context(), bc.FrameworkID)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, b := range bc.Buyers {
		in[b.OrganisationID] = true
	}
	var out []orgs.Organisation
	for _, b := range fwBuyers {
		if b.Eligible() && !in[b.OrganisationID] {
			out = append(out, b.Organisation)
		}
	}
	return out, nil
}

// competitionChange runs one change to the competition for its lead and
// redirects to its page with a confirmation, or shows the page again with
// the problem.
func (s *Server) competitionChange(c echo.Context, flash string, change func(bc *buyerCompetition) error) error {
	bc, err := s.leadCompetition(c)
	if err != nil {
		return err
	}
	if err := change(bc); err != nil {
		return s.competitionRefused(c, bc, err)
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, competition.CompetitionPath(bc.ID))
}

// competitionRefused shows the competition's page again with why a change
// was refused: field errors beside their fields with what was typed kept, a
// change that came too late or clashed with another against what is stored
// now.
func (s *Server) competitionRefused(c echo.Context, bc *buyerCompetition, err error) error {
	if _, ok := validate.As(err); ok {
		return s.renderCompetition(c, http.StatusBadRequest, bc, err, true)
	}
	var msg string
	switch {
	case errors.Is(err, competition.ErrNotDraft):
		msg = "The competition has been published, so its set-up can no longer be changed"
	case errors.Is(err, store.ErrConflict):
		msg = "Someone else changed the competition at the same time. Check it below and make your change again"
	case errors.Is(err, competition.ErrForbidden), errors.Is(err, store.ErrNotFound):
		return errNotFound
	default:
		return err
	}
	if bc, err = s.readCompetition(c); err != nil {
		return err
	}
	return s.renderCompetition(c, http.StatusConflict, bc, newErrors(competition.FieldState, msg), false)
}
