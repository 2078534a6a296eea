package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// dateTimeInput reads a date input (name-day/-month/-year) and a time field
// (name-time, "17:00" or "5pm") as UK time. ok is false when what was typed
// is not a real date and time; all blank gives the zero time.
func dateTimeInput(form url.Values, name string) (time.Time, bool) {
	day, ok := dateInput(form, name)
	if !ok {
		return time.Time{}, false
	}
	clock := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(form.Get(name+"-time")), " ", ""))
	if day.IsZero() {
		return time.Time{}, clock == ""
	}
	if clock == "" {
		clock = "17:00"
	}
	for _, layout := range []string{"15:04", "3pm", "3:04pm", "15.04"} {
		if t, err := time.Parse(layout, clock); err == nil {
			return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, uktime.Location).UTC(), true
		}
	}
	return time.Time{}, false
}

func (s *Server) frameworksPage(c echo.Context) error {
	return s.renderFrameworks(c, http.StatusOK, nil)
}

func (s *Server) renderFrameworks(c echo.Context, status int, err error) error {
	list, lerr := s.Framework.Frameworks(c.Request().Context(), viewer(c).ActingOrg.ID)
	if lerr != nil {
		return lerr
	}
	p := s.formPage(c, "Framework agreements", err)
	if err == nil {
		p.Form = url.Values{"regime": {framework.RegimePA2023}, "kind": {framework.KindClosed}}
	}
	p.Data = map[string]any{"Frameworks": list, "Now": s.Clock.Now()}
	return s.render(c, status, "frameworks", p)
}

func frameworkInput(c echo.Context) (framework.FrameworkInput, *validate.Errors) {
	f, _ := c.FormParams()
	var v validate.Errors
	in := framework.FrameworkInput{
		Reference: f.Get("reference"), Title: f.Get("title"), Description: f.Get("description"),
		Regime: f.Get("regime"), Kind: f.Get("kind"), Version: formInt(f, "version"),
	}
	dates := []struct {
		field, label string
		into         *time.Time
		withTime     bool
	}{
		{framework.FieldTermStart, "The term's start", &in.TermStart, false},
		{framework.FieldTermEnd, "The term's end", &in.TermEnd, false},
		{framework.FieldApplicationsOpen, "The date applications open", &in.ApplicationsOpen, true},
		{framework.FieldClarificationDeadline, "The deadline for questions", &in.ClarificationDeadline, true},
		{framework.FieldApplicationDeadline, "The deadline for applications", &in.ApplicationDeadline, true},
	}
	for _, d := range dates {
		var ok bool
		if d.withTime {
			*d.into, ok = dateTimeInput(f, d.field)
		} else {
			*d.into, ok = dateInput(f, d.field)
		}
		if !ok {
			v.Add(d.field, d.label+" must be a real date"+map[bool]string{true: " and time, for example 15 3 2027 and 17:00", false: ", for example 1 4 2027"}[d.withTime])
		}
	}
	return in, &v
}

func (s *Server) frameworkCreate(c echo.Context) error {
	in, v := frameworkInput(c)
	if v.Err() != nil {
		return s.renderFrameworks(c, http.StatusBadRequest, v)
	}
	fw, err := s.Framework.CreateFramework(c.Request().Context(), actor(c), viewer(c).ActingOrg.ID, in)
	if _, ok := validate.As(err); ok {
		return s.renderFrameworks(c, http.StatusBadRequest, err)
	}
	if err != nil {
		return err
	}
	s.flash(c, "framework-created")
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+fw.ID)
}

// ownedFramework loads a framework and checks, in the domain of the
// consortium that owns it, that the viewer may act on it.
func (s *Server) ownedFramework(c echo.Context, act string) (*framework.Framework, error) {
	ctx := c.Request().Context()
	fw, err := s.Framework.Framework(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.auditDenied(c, "framework."+act, "framework", c.Param("id"))
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkOwned(c, consortium(fw.ConsortiumID), "framework", act, "framework", fw.ID); err != nil {
		return nil, err
	}
	return fw, nil
}

func (s *Server) frameworkPage(c echo.Context) error {
	fw, err := s.ownedFramework(c, "read")
	if err != nil {
		return err
	}
	return s.renderFramework(c, http.StatusOK, fw, nil)
}

// lotView is a lot with its requirements for the framework page.
type lotView struct {
	framework.Lot
	Requirements []framework.LotRequirement
}

func (s *Server) renderFramework(c echo.Context, status int, fw *framework.Framework, formErr error) error {
	ctx := c.Request().Context()
	lots, err := s.Framework.Lots(ctx, fw.ID)
	if err != nil {
		return err
	}
	byLot, err := s.Framework.RequirementsByLot(ctx, fw.ID)
	if err != nil {
		return err
	}
	views := make([]lotView, len(lots))
	for i, l := range lots {
		views[i] = lotView{Lot: l, Requirements: byLot[l.ID]}
	}
	criteria, err := s.Framework.Criteria(ctx, fw.ID)
	if err != nil {
		return err
	}
	buyers, err := s.Framework.Buyers(ctx, fw.ID)
	if err != nil {
		return err
	}
	catalogues, err := s.Catalogue.Catalogues(ctx, fw.ConsortiumID)
	if err != nil {
		return err
	}
	invitations, err := s.Framework.Invitations(ctx, fw.ID)
	if err != nil {
		return err
	}
	suppliers, err := s.Orgs.Organisations(ctx, orgs.KindSupplier, "")
	if err != nil {
		return err
	}
	// Only how many have applied, never who: applications stay sealed
	// until the deadline.
	lotIDs := make([]string, len(lots))
	for i, l := range lots {
		lotIDs[i] = l.ID
	}
	applied, err := s.Sealed.CountIn(ctx, sealed.TypeFrameworkApplication, lotIDs)
	if err != nil {
		return err
	}
	p := s.formPage(c, fw.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	rows := 5
	if len(criteria) >= rows {
		rows = len(criteria) + 1
	}
	p.Data = map[string]any{
		"Framework": fw, "State": fw.State(s.Clock.Now()), "Lots": views, "Criteria": criteria, "CriteriaRows": rows,
		"Buyers": buyers, "Catalogues": catalogues, "CanWrite": s.may(c, consortium(fw.ConsortiumID), "framework", "write"),
		"Invitations": invitations, "Suppliers": suppliers, "Applied": applied, "FirstCriterion": firstCriterion(criteria),
	}
	return s.render(c, status, "framework", p)
}

// firstCriterion is the criterion requirements count towards unless
// linked to another.
func firstCriterion(criteria []framework.Criterion) string {
	if len(criteria) == 0 {
		return ""
	}
	return criteria[0].Name
}

// frameworkChange runs one change to a framework and shows the page again
// with its field errors, or redirects with a confirmation.
func (s *Server) frameworkChange(c echo.Context, flash string, change func(fw *framework.Framework) error) error {
	fw, err := s.ownedFramework(c, "write")
	if err != nil {
		return err
	}
	err = change(fw)
	if _, ok := validate.As(err); ok {
		return s.renderFramework(c, http.StatusBadRequest, fw, err)
	}
	if errors.Is(err, framework.ErrNotDraft) {
		return s.renderFramework(c, http.StatusConflict, fw, newErrors("state", "The framework has been published, so it can no longer be changed"))
	}
	if err != nil {
		return err
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+fw.ID)
}

func (s *Server) frameworkLotAdd(c echo.Context) error {
	return s.frameworkChange(c, "lot-added", func(fw *framework.Framework) error {
		f, _ := c.FormParams()
		_, err := s.Framework.AddLot(c.Request().Context(), actor(c), fw.ID, framework.LotInput{
			Title: f.Get("title"), Scope: f.Get("scope"), Min: formInt(f, "min_suppliers"), Max: formInt(f, "max_suppliers"), CallOff: f.Get("call_off"),
		})
		return err
	})
}

// frameworkLotCopy copies requirements from a published catalogue version
// into a lot ("catalogue" is "<catalogue id>/<version>").
func (s *Server) frameworkLotCopy(c echo.Context) error {
	return s.frameworkChange(c, "requirements-copied", func(fw *framework.Framework) error {
		catID, ver, _ := strings.Cut(c.FormValue("catalogue"), "/")
		version, _ := strconv.Atoi(ver)
		if catID == "" || version < 1 {
			return newErrors(framework.FieldReferences, "Select a published catalogue version to copy from")
		}
		var refs []string
		for _, r := range strings.FieldsFunc(c.FormValue("references"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
			refs = append(refs, strings.ToUpper(r))
		}
		lot, err := s.lotOf(c, fw)
		if err != nil {
			return err
		}
		_, err = s.Framework.CopyRequirements(c.Request().Context(), actor(c), lot.ID, catID, version, refs)
		return err
	})
}

// lotOf returns the lot named in the URL if it belongs to fw; any other
// lot is not found, and the attempt is audited.
func (s *Server) lotOf(c echo.Context, fw *framework.Framework) (*framework.Lot, error) {
	lots, err := s.Framework.Lots(c.Request().Context(), fw.ID)
	if err != nil {
		return nil, err
	}
	for i := range lots {
		if lots[i].ID == c.Param("lot") {
			return &lots[i], nil
		}
	}
	s.auditDenied(c, "framework.write", "framework_lot", c.Param("lot"))
	return nil, errNotFound
}

// frameworkLotCriteria links each of a lot's scored requirements to the
// evaluation criterion it counts towards (fields criterion-<id>).
func (s *Server) frameworkLotCriteria(c echo.Context) error {
	return s.frameworkChange(c, "criteria-linked", func(fw *framework.Framework) error {
		lot, err := s.lotOf(c, fw)
		if err != nil {
			return err
		}
		reqs, err := s.Framework.LotRequirements(c.Request().Context(), lot.ID)
		if err != nil {
			return err
		}
		f, _ := c.FormParams()
		links := map[string]string{}
		for _, r := range reqs {
			if v, ok := f[framework.FieldRequirementCriterion(r.ID)]; ok && len(v) > 0 {
				links[r.ID] = v[0]
			}
		}
		return s.Framework.LinkCriteria(c.Request().Context(), actor(c), lot.ID, links)
	})
}

func (s *Server) frameworkCriteria(c echo.Context) error {
	return s.frameworkChange(c, "criteria-saved", func(fw *framework.Framework) error {
		f, _ := c.FormParams()
		var list []framework.Criterion
		names, weights := f["criterion-name"], f["criterion-weight"]
		for i, name := range names {
			if strings.TrimSpace(name) == "" {
				continue
			}
			w := 0
			if i < len(weights) {
				w, _ = strconv.Atoi(strings.TrimSpace(weights[i]))
			}
			list = append(list, framework.Criterion{Name: name, Weight: w})
		}
		return s.Framework.SetCriteria(c.Request().Context(), actor(c), fw.ID, list)
	})
}

func (s *Server) frameworkPublish(c echo.Context) error {
	return s.frameworkChange(c, "framework-published", func(fw *framework.Framework) error {
		return s.Framework.Publish(c.Request().Context(), actor(c), fw.ID)
	})
}
