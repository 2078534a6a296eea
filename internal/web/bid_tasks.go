package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/validate"
)

// bidTasks is the bid's task list.
func (s *Server) bidTasks(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	return s.renderBid(c, http.StatusOK, "bid_tasks", "Your bid", b, nil)
}

// renderBid shows one of the bid's pages with b and the declarations.
func (s *Server) renderBid(c echo.Context, status int, name, title string, b *supplierBid, formErr error) error {
	p := s.formPage(c, title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = b.Path()
	if name == "bid_tasks" {
		p.BackURL = b.Base()
	}
	p.Data = map[string]any{"Bid": b, "Response": b, "Declarations": framework.Declarations}
	return s.render(c, status, name, p)
}

// bidSection shows one section's requirements to answer.
func (s *Server) bidSection(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	i, sec, err := b.section(c)
	if err != nil {
		return err
	}
	return s.renderBidSection(c, http.StatusOK, b, i, sec, nil)
}

func (s *Server) renderBidSection(c echo.Context, status int, b *supplierBid, i int, sec *framework.Section, formErr error) error {
	p := s.formPage(c, sec.Title, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = b.Path()
	p.Data = map[string]any{"Bid": b, "Response": b, "Section": sec, "Number": i + 1}
	return s.render(c, status, "response_section", p)
}

// postedAnswer reads the answer to r typed into a section's form, and what
// is wrong with how it is written; it is the same form as a framework
// application's section.
func postedAnswer(c echo.Context, r framework.LotRequirement, v *validate.Errors) framework.Answer {
	ans := framework.Answer{
		Meets:  c.FormValue("meets-" + r.ID),
		Text:   strings.TrimSpace(c.FormValue("text-" + r.ID)),
		Number: strings.TrimSpace(c.FormValue("number-" + r.ID)),
	}
	if ans.Meets != "" && ans.Meets != framework.AnswerYes && ans.Meets != framework.AnswerNo {
		ans.Meets = ""
	}
	if r.ResponseType == catalogue.PriceSchedule {
		if typed := strings.TrimSpace(c.FormValue("price-" + r.ID)); typed != "" {
			pence, ok := framework.ParsePounds(typed)
			if !ok {
				v.Add("price-"+r.ID, "Enter the price for "+r.Reference+" in pounds, like 1250 or 1,250.50")
			} else {
				ans.PricePence = &pence
			}
		}
	}
	if problem := framework.FormatProblem(r, ans); problem != "" {
		v.Add(fieldFor(r), problem)
	}
	return ans
}

// bidSectionSave keeps the answers of one section in the working copy.
func (s *Server) bidSectionSave(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	b.DraftVersion = postedDraftVersion(c)
	i, sec, err := b.section(c)
	if err != nil {
		return err
	}
	var v validate.Errors
	for _, r := range sec.Requirements {
		b.Content.Answers[r.ID] = postedAnswer(c, r, &v)
	}
	if err := v.Err(); err != nil {
		return s.renderBidSection(c, http.StatusBadRequest, b, i, sec, err)
	}
	if err := s.saveBid(c, b); err != nil {
		if status, msg, ok := bidSaveProblem(err); ok {
			return s.renderBidSection(c, status, b, i, sec, msg)
		}
		return bidForbidden(err)
	}
	s.flash(c, "answers-saved")
	return c.Redirect(http.StatusSeeOther, b.Path())
}

// bidPrices shows one buying trust's price schedule to price.
func (s *Server) bidPrices(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	t, err := b.priceTask(c)
	if err != nil {
		return err
	}
	return s.renderBidPrices(c, http.StatusOK, b, t, nil)
}

func (s *Server) renderBidPrices(c echo.Context, status int, b *supplierBid, t *priceTask, formErr error) error {
	p := s.formPage(c, "Prices for "+t.Schedule.Buyer.Organisation.Name, formErr)
	if formErr == nil {
		p.Form = nil
	}
	p.BackURL = b.Path()
	p.Data = map[string]any{"Bid": b, "Task": t}
	return s.render(c, status, "bid_prices", p)
}

// bidPricesSave keeps the unit prices of one buying trust's schedule, typed
// in pounds; a line left empty is not priced yet.
func (s *Server) bidPricesSave(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	b.DraftVersion = postedDraftVersion(c)
	t, err := b.priceTask(c)
	if err != nil {
		return err
	}
	org := t.Schedule.Buyer.OrganisationID
	var v validate.Errors
	for _, it := range t.Schedule.Items {
		field := competition.FieldPrice(it.ID)
		typed := strings.TrimSpace(c.FormValue(field))
		if typed == "" {
			delete(b.Content.Prices[org], it.ID)
			continue
		}
		pence, ok := framework.ParsePounds(typed)
		if !ok {
			v.Add(field, "Enter the price per "+it.Unit+" of "+it.Name+" in pounds, like 1250 or 1,250.50")
			continue
		}
		b.Content.SetPrice(org, it.ID, pence)
	}
	if err := v.Err(); err != nil {
		return s.renderBidPrices(c, http.StatusBadRequest, b, t, err)
	}
	if err := s.saveBid(c, b); err != nil {
		if status, msg, ok := bidSaveProblem(err); ok {
			return s.renderBidPrices(c, status, b, t, msg)
		}
		return bidForbidden(err)
	}
	s.flash(c, "prices-saved")
	return c.Redirect(http.StatusSeeOther, b.Path())
}

// bidDocuments lets the supplier attach documents from its library.
func (s *Server) bidDocuments(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	return s.renderBidDocuments(c, http.StatusOK, b, nil)
}

func (s *Server) renderBidDocuments(c echo.Context, status int, b *supplierBid, formErr error) error {
	library, attached, err := s.libraryChoice(c, b.Supplier.ID, b.Content.Documents)
	if err != nil {
		return err
	}
	p := s.formPage(c, "Attach documents", formErr)
	p.BackURL = b.Path()
	p.Data = map[string]any{"Bid": b, "Response": b, "Library": library, "Attached": attached}
	return s.render(c, status, "response_documents", p)
}

// bidDocumentsSave records which library documents are attached, pinning
// each by its SHA-256. Only the supplier's own documents can be attached.
func (s *Server) bidDocumentsSave(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	b.DraftVersion = postedDraftVersion(c)
	docs, err := s.chosenDocuments(c, b.Supplier.ID, "competition.bid.attach")
	if err != nil {
		return err
	}
	b.Content.Documents = docs
	if err := s.saveBid(c, b); err != nil {
		if status, msg, ok := bidSaveProblem(err); ok {
			return s.renderBidDocuments(c, status, b, msg)
		}
		return bidForbidden(err)
	}
	s.flash(c, "documents-attached")
	return c.Redirect(http.StatusSeeOther, b.Path())
}

// bidDeclarations shows the declarations to make.
func (s *Server) bidDeclarations(c echo.Context) error {
	b, err := s.loadBid(c, "read")
	if err != nil {
		return err
	}
	return s.renderBid(c, http.StatusOK, "response_declarations", "Declarations", b, nil)
}

// bidDeclarationsSave records the declarations ticked.
func (s *Server) bidDeclarationsSave(c echo.Context) error {
	b, err := s.loadBid(c, "write")
	if err != nil {
		return err
	}
	b.DraftVersion = postedDraftVersion(c)
	form, _ := c.FormParams()
	ticked := map[string]bool{}
	for _, k := range form["declaration"] {
		ticked[k] = true
	}
	b.Content.Declarations = nil
	for _, d := range framework.Declarations {
		if ticked[d.Key] {
			b.Content.Declarations = append(b.Content.Declarations, d.Key)
		}
	}
	if err := s.saveBid(c, b); err != nil {
		if status, msg, ok := bidSaveProblem(err); ok {
			return s.renderBid(c, status, "response_declarations", "Declarations", b, msg)
		}
		return bidForbidden(err)
	}
	s.flash(c, "declarations-saved")
	return c.Redirect(http.StatusSeeOther, b.Path())
}
