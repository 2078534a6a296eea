package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// evaluationsPage lists the frameworks the viewer is assigned to evaluate.
func (s *Server) evaluationsPage(c echo.Context) error {
	list, err := s.Framework.EvaluatorFrameworks(c.Request().Context(), viewer(c).User.ID)
	if err != nil {
		return err
	}
	p := s.page(c, "Evaluations")
	p.Data = map[string]any{"Frameworks": list, "Now": s.Clock.Now()}
	return s.renderOK(c, "evaluations", p)
}

// evaluatorFramework loads the framework in the URL for one of its
// assigned evaluators, who must hold the evaluator role where they act
// now. Anyone else gets 404, audited. The domain checks the assignment
// again for every read and write.
func (s *Server) evaluatorFramework(c echo.Context) (*framework.Framework, error) {
	ctx := c.Request().Context()
	v := viewer(c)
	id := c.Param("id")
	deny := func() (*framework.Framework, error) {
		s.auditDenied(c, "evaluation.score", "framework", id)
		return nil, errNotFound
	}
	if v == nil || v.ActingOrg == nil || !s.authz.Allowed(v.User.ID, v.Domain(), "evaluation", "score") {
		return deny()
	}
	fw, err := s.Framework.Framework(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return deny()
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.Framework.IsEvaluator(ctx, fw.ID, v.User.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return deny()
	}
	return fw, nil
}

// myApplication is one opened application and where the evaluator's own
// scores for it stand.
type myApplication struct {
	Application framework.Application
	Evaluation  *framework.Evaluation
}

// evaluatePage lists the opened applications for the evaluator to score.
func (s *Server) evaluatePage(c echo.Context) error {
	fw, err := s.evaluatorFramework(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	apps, err := s.Framework.Applications(ctx, fw.ID)
	if err != nil {
		return err
	}
	mine := make([]myApplication, len(apps))
	for i, a := range apps {
		ev, err := s.Framework.MyScores(ctx, a.ID, viewer(c).User.ID)
		if err != nil {
			return err
		}
		mine[i] = myApplication{Application: a, Evaluation: ev}
	}
	p := s.page(c, "Evaluate: "+fw.Title)
	p.BackURL = "/evaluations"
	p.Data = map[string]any{"Framework": fw, "Applications": mine, "State": fw.State(s.Clock.Now())}
	return s.renderOK(c, "evaluate", p)
}

// scoredApplication loads the application in the URL, which must belong to
// the framework in the URL.
func (s *Server) scoredApplication(c echo.Context, fw *framework.Framework) (*framework.Application, error) {
	a, err := s.Framework.Application(c.Request().Context(), c.Param("app"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.FrameworkID != fw.ID) {
		s.auditDenied(c, "evaluation.score", "framework_application", c.Param("app"))
		return nil, errNotFound
	}
	return a, err
}

// scorePage shows an opened application beside the evaluator's score form.
func (s *Server) scorePage(c echo.Context) error {
	fw, err := s.evaluatorFramework(c)
	if err != nil {
		return err
	}
	a, err := s.scoredApplication(c, fw)
	if err != nil {
		return err
	}
	return s.renderScore(c, http.StatusOK, fw, a, nil)
}

func (s *Server) renderScore(c echo.Context, status int, fw *framework.Framework, a *framework.Application, formErr error) error {
	ctx := c.Request().Context()
	content, err := s.Framework.ApplicationContent(ctx, actor(c), a.ID)
	if err != nil {
		return err
	}
	reqs, err := s.Framework.LotRequirements(ctx, a.LotID)
	if err != nil {
		return err
	}
	mine, err := s.Framework.MyScores(ctx, a.ID, viewer(c).User.ID)
	if err != nil {
		return err
	}
	// Everyone's scores, once every evaluator has submitted.
	all, err := s.Framework.Scores(ctx, actor(c), a.ID)
	if errors.Is(err, framework.ErrScoresHidden) {
		all, err = nil, nil
	}
	if err != nil {
		return err
	}
	mineBy := map[string]framework.Score{}
	for _, sc := range mine.Scores {
		mineBy[sc.LotRequirementID] = sc
	}
	allBy := map[string][]othersMark{}
	for _, e := range all {
		for _, sc := range e.Scores {
			allBy[sc.LotRequirementID] = append(allBy[sc.LotRequirementID], othersMark{Evaluator: e.Evaluator.Name, Pass: sc.Pass, Score: sc.Score, Justification: sc.Justification})
		}
	}
	p := s.formPage(c, a.Supplier.Name+": lot "+strconv.Itoa(a.Lot.Number), formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = "/frameworks/" + fw.ID + "/evaluate"
	p.Data = map[string]any{"Framework": fw, "Application": a, "Content": content, "Sections": framework.Sections(reqs),
		"Mine": mine, "MineBy": mineBy, "AllBy": allBy, "AllShown": all != nil, "Marks": markScale}
	return s.render(c, status, "score", p)
}

// scoreSave saves the evaluator's marks as a draft, or (action=submit)
// saves and submits them, after which they are final.
func (s *Server) scoreSave(c echo.Context) error {
	fw, err := s.evaluatorFramework(c)
	if err != nil {
		return err
	}
	a, err := s.scoredApplication(c, fw)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	reqs, err := s.Framework.LotRequirements(ctx, a.LotID)
	if err != nil {
		return err
	}
	f, _ := c.FormParams()
	var v validate.Errors
	inputs := make([]framework.ScoreInput, 0, len(reqs))
	for _, r := range reqs {
		if pass, score, text, ok := markInput(f, r, &v); ok {
			inputs = append(inputs, framework.ScoreInput{LotRequirementID: r.ID, Pass: pass, Score: score, Justification: text})
		}
	}
	if err := v.Err(); err != nil {
		return s.renderScore(c, http.StatusBadRequest, fw, a, err)
	}
	err = s.Framework.SaveScores(ctx, actor(c), a.ID, inputs)
	if err == nil && f.Get("action") == "submit" {
		err = s.Framework.SubmitScores(ctx, actor(c), a.ID)
	}
	if _, ok := validate.As(err); ok {
		return s.renderScore(c, http.StatusBadRequest, fw, a, err)
	}
	if errors.Is(err, framework.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if f.Get("action") == "submit" {
		s.flash(c, "scores-submitted")
	} else {
		s.flash(c, "scores-saved")
	}
	return c.Redirect(http.StatusSeeOther, "/frameworks/"+fw.ID+"/evaluate")
}

func ptr[T any](v T) *T { return &v }

// markScale is the marks an evaluator chooses from, lowest first.
var markScale = func() []int {
	var out []int
	for m := framework.MinMark; m <= framework.MaxMark; m++ {
		out = append(out, m)
	}
	return out
}()

// othersMark is one evaluator's submitted mark shown beside the viewer's
// own once everyone has submitted.
type othersMark struct {
	Evaluator     string
	Pass          *bool
	Score         *int
	Justification string
}

// markInput reads one requirement's mark from a marking form (the score
// pages of framework and competition evaluations, and moderation): pass or
// fail, or a mark on the 0 to 4 scale, and its justification. ok is false,
// with a field error, when the mark typed is not a whole number; whether
// the mark is on the scale and justified is the domain's rule
// (framework.MarkProblem).
func markInput(f url.Values, r framework.LotRequirement, v *validate.Errors) (pass *bool, score *int, justification string, ok bool) {
	justification = strings.TrimSpace(f.Get(framework.FieldJustification(r)))
	typed := strings.TrimSpace(f.Get(framework.FieldMark(r)))
	switch {
	case r.ResponseType == catalogue.PassFail && typed == "pass":
		pass = ptr(true)
	case r.ResponseType == catalogue.PassFail && typed == "fail":
		pass = ptr(false)
	case r.ResponseType != catalogue.PassFail && typed != "":
		n, err := strconv.Atoi(typed)
		if err != nil {
			v.Add(framework.FieldMark(r), "The mark for "+r.Reference+" must be a whole number from 0 to 4")
			return nil, nil, "", false
		}
		score = &n
	}
	return pass, score, justification, true
}

// applicationDocument downloads a document attached to an opened
// application, for the lead or an evaluator: only a document the sealed
// application names, and only if it is still the very file attached.
func (s *Server) applicationDocument(c echo.Context) error {
	ctx := c.Request().Context()
	fw, err := s.Framework.Framework(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	a, err := s.scoredApplication(c, fw)
	if err != nil {
		return err
	}
	content, err := s.Framework.ApplicationContent(ctx, actor(c), a.ID)
	if errors.Is(err, framework.ErrForbidden) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	for _, d := range content.Documents {
		if d.ID != c.Param("doc") {
			continue
		}
		doc, err := s.Docs.Get(ctx, d.ID)
		if err != nil {
			return err
		}
		if doc.SHA256 != d.SHA256 || doc.OrganisationID != a.SupplierOrgID {
			s.auditDenied(c, "framework.application.document", "document", d.ID)
			return errNotFound
		}
		return s.sendDocument(c, doc)
	}
	s.auditDenied(c, "framework.application.document", "document", c.Param("doc"))
	return errNotFound
}
