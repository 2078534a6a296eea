package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/validate"
)

// The draft competition's set-up, for a trust lead of the lead trust: the
// details and timeline, the buying trusts, the requirements, each trust's
// price schedule, the evaluation panel, and publishing. Each form posts to
// its own action; the page shows again with the problem beside its field.
// Forms that appear once per row name their fields <field>-<row ID>
// (perRow), as competition.FieldForRequirement does.

func (s *Server) competitionDetailsSave(c echo.Context) error {
	return s.competitionChange(c, "competition-saved", func(bc *buyerCompetition) error {
		f, _ := c.FormParams()
		in, v := competitionInput(f)
		if err := v.Err(); err != nil {
			return err
		}
		return s.Competition.UpdateCompetition(c.Request().Context(), actor(c), bc.ID, in)
	})
}

// countInput reads an optional whole number: blank is nil.
func countInput(f url.Values, name, what string, v *validate.Errors) *int {
	raw := strings.ReplaceAll(strings.TrimSpace(f.Get(name)), ",", "")
	if raw == "" {
		return nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		v.Add(name, "Enter the number of "+what+" as a whole number, such as 1100, or leave it empty")
		return nil
	}
	return &n
}

// buyerInput reads a buying trust's volumes and sites from the fields
// named <field><suffix>.
func buyerInput(f url.Values, suffix string) (competition.BuyerInput, *validate.Errors) {
	var v validate.Errors
	in := competition.BuyerInput{
		Volumes: f.Get(competition.FieldVolumes + suffix), Sites: f.Get(competition.FieldSites + suffix),
		Beds:  countInput(f, competition.FieldBeds+suffix, "beds", &v),
		Users: countInput(f, competition.FieldUsers+suffix, "users", &v),
	}
	return in, &v
}

func (s *Server) competitionBuyerAdd(c echo.Context) error {
	return s.competitionChange(c, "competition-buyer-added", func(bc *buyerCompetition) error {
		f, _ := c.FormParams()
		in, v := buyerInput(f, "")
		if err := v.Err(); err != nil {
			return err
		}
		in.OrganisationID = f.Get(competition.FieldOrganisation)
		_, err := s.Competition.AddBuyer(c.Request().Context(), actor(c), bc.ID, in)
		return err
	})
}

// buyerOf returns the organisation ID in the URL if it is one of the
// competition's buying trusts; any other is not found, and audited.
func (s *Server) buyerOf(c echo.Context, bc *buyerCompetition) (string, error) {
	for _, b := range bc.Buyers {
		if b.OrganisationID == c.Param("org") {
			return b.OrganisationID, nil
		}
	}
	s.auditDenied(c, "competition.write", "competition_buyer", c.Param("org"))
	return "", errNotFound
}

func (s *Server) competitionBuyerSave(c echo.Context) error {
	return s.competitionChange(c, "competition-buyer-saved", func(bc *buyerCompetition) error {
		org, err := s.buyerOf(c, bc)
		if err != nil {
			return err
		}
		f, _ := c.FormParams()
		in, v := buyerInput(f, "-"+org)
		if err := v.Err(); err != nil {
			return err
		}
		in.OrganisationID, in.Version = org, formInt(f, "version-"+org)
		return perRow(s.Competition.UpdateBuyer(c.Request().Context(), actor(c), bc.ID, in), org)
	})
}

func (s *Server) competitionBuyerRemove(c echo.Context) error {
	return s.competitionChange(c, "competition-buyer-removed", func(bc *buyerCompetition) error {
		org, err := s.buyerOf(c, bc)
		if err != nil {
			return err
		}
		err = s.Competition.RemoveBuyer(c.Request().Context(), actor(c), bc.ID, org)
		if v, ok := validate.As(err); ok {
			// The problem is the trust's, shown on its row.
			return newErrors(competition.FieldBuyer(org), v.List[0].Message)
		}
		return err
	})
}

// competitionRequirementsCopy copies the lot's requirements: all of them,
// or those whose references are listed.
func (s *Server) competitionRequirementsCopy(c echo.Context) error {
	return s.competitionChange(c, "competition-reqs-copied", func(bc *buyerCompetition) error {
		refs := strings.FieldsFunc(c.FormValue(competition.FieldRequirements), func(r rune) bool {
			return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';'
		})
		_, err := s.Competition.CopyLotRequirements(c.Request().Context(), actor(c), bc.ID, refs)
		return err
	})
}

// requirementOf returns the requirement in the URL if it is one of the
// competition's; any other is not found, and audited.
func (s *Server) requirementOf(c echo.Context, bc *buyerCompetition) (*competition.Requirement, error) {
	reqs, err := s.Competition.Requirements(c.Request().Context(), bc.ID)
	if err != nil {
		return nil, err
	}
	for i := range reqs {
		if reqs[i].ID == c.Param("req") {
			return &reqs[i], nil
		}
	}
	s.auditDenied(c, "competition.write", "competition_requirement", c.Param("req"))
	return nil, errNotFound
}

// requirementEdit reads one requirement's wording and weight from the
// fields competition.FieldForRequirement names.
func requirementEdit(f url.Values, r *competition.Requirement, v *validate.Errors) competition.RequirementEdit {
	text := competition.FieldForRequirement(r.ID, competition.FieldRequirementText)
	weight := competition.FieldForRequirement(r.ID, competition.FieldRequirementWeight)
	e := competition.RequirementEdit{RequirementID: r.ID, Text: f.Get(text), Version: formInt(f, "version-"+r.ID)}
	n, err := strconv.Atoi(strings.TrimSpace(f.Get(weight)))
	if err != nil {
		v.Add(weight, "Enter the weight of "+r.Reference+" as a whole number from 0 to 100")
	}
	e.Weight = n
	return e
}

func (s *Server) competitionRequirementSave(c echo.Context) error {
	return s.competitionChange(c, "requirement-saved", func(bc *buyerCompetition) error {
		r, err := s.requirementOf(c, bc)
		if err != nil {
			return err
		}
		f, _ := c.FormParams()
		var v validate.Errors
		e := requirementEdit(f, r, &v)
		if err := v.Err(); err != nil {
			return err
		}
		return perRow(s.Competition.UpdateRequirement(c.Request().Context(), actor(c), e), r.ID)
	})
}

func (s *Server) competitionRequirementRemove(c echo.Context) error {
	return s.competitionChange(c, "requirement-deleted", func(bc *buyerCompetition) error {
		r, err := s.requirementOf(c, bc)
		if err != nil {
			return err
		}
		return s.Competition.RemoveRequirement(c.Request().Context(), actor(c), r.ID)
	})
}

// competitionRequirementNew is the form for a requirement of the
// competition's own.
func (s *Server) competitionRequirementNew(c echo.Context) error {
	bc, err := s.leadCompetition(c)
	if err != nil {
		return err
	}
	return s.renderRequirementNew(c, http.StatusOK, bc, nil)
}

func (s *Server) renderRequirementNew(c echo.Context, status int, bc *buyerCompetition, formErr error) error {
	p := s.formPage(c, "Add a requirement", formErr)
	if formErr == nil {
		p.Form = url.Values{competition.FieldRequirementPriority: {catalogue.Must}, competition.FieldRequirementResponseType: {catalogue.Scored}}
	}
	marks := make([]string, catalogue.Marks)
	for i := range marks {
		marks[i] = competition.FieldDescriptor(i)
	}
	p.BackURL = competition.CompetitionPath(bc.ID)
	p.Data = map[string]any{
		"View": "requirement", "C": bc.Competition, "BC": bc, "Marks": marks,
		"Priorities":    []string{catalogue.Must, catalogue.Should, catalogue.Could, catalogue.Wont},
		"ResponseTypes": []string{catalogue.Scored, catalogue.PassFail, catalogue.Numeric, catalogue.PriceSchedule},
	}
	return s.render(c, status, "competition", p)
}

func (s *Server) competitionRequirementAdd(c echo.Context) error {
	bc, err := s.leadCompetition(c)
	if err != nil {
		return err
	}
	f, _ := c.FormParams()
	var v validate.Errors
	in := competition.RequirementInput{
		Reference: f.Get(competition.FieldRequirementReference), Text: f.Get(competition.FieldRequirementText),
		Priority: f.Get(competition.FieldRequirementPriority), ResponseType: f.Get(competition.FieldRequirementResponseType),
		Guidance: f.Get(competition.FieldRequirementGuidance), SectionTitle: f.Get(competition.FieldRequirementSection),
	}
	in.Weight = weightInput(f, competition.FieldRequirementWeight, "weight", &v)
	for i := range in.Descriptors {
		in.Descriptors[i] = f.Get(competition.FieldDescriptor(i))
	}
	if v.Err() == nil {
		_, err = s.Competition.AddRequirement(c.Request().Context(), actor(c), bc.ID, in)
	} else {
		err = &v
	}
	if _, ok := validate.As(err); ok {
		return s.renderRequirementNew(c, http.StatusBadRequest, bc, err)
	}
	if err != nil {
		return s.competitionRefused(c, bc, err)
	}
	s.flash(c, "competition-req-added")
	return c.Redirect(http.StatusSeeOther, competition.CompetitionPath(bc.ID))
}

// priceErrors names a price item form's field errors after the buying
// trust whose schedule it is: <field>-<trust ID>, and a problem with the
// schedule itself at competition.FieldPriceSchedule.
func priceErrors(err error, orgID string) error {
	v, ok := validate.As(err)
	if !ok {
		return err
	}
	out := &validate.Errors{}
	for _, f := range v.List {
		if f.Field == competition.FieldOrganisation {
			out.Add(competition.FieldPriceSchedule(orgID), f.Message)
		} else {
			out.Add(f.Field+"-"+orgID, f.Message)
		}
	}
	return out
}

// competitionPriceAdd adds a line to the price schedule of the buying
// trust in the URL.
func (s *Server) competitionPriceAdd(c echo.Context) error {
	return s.competitionChange(c, "competition-price-added", func(bc *buyerCompetition) error {
		org, err := s.buyerOf(c, bc)
		if err != nil {
			return err
		}
		f, _ := c.FormParams()
		var v validate.Errors
		quantity, qerr := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(f.Get(competition.FieldItemQuantity+"-"+org)), ",", ""), 10, 64)
		if qerr != nil {
			v.Add(competition.FieldItemQuantity+"-"+org, "Enter the quantity as a whole number, such as 5")
		}
		if err := v.Err(); err != nil {
			return err
		}
		_, err = s.Competition.AddPriceItem(c.Request().Context(), actor(c), bc.ID, competition.PriceItemInput{
			OrganisationID: org, Name: f.Get(competition.FieldItemName + "-" + org), Unit: f.Get(competition.FieldItemUnit + "-" + org), Quantity: quantity,
		})
		return priceErrors(err, org)
	})
}

func (s *Server) competitionPriceRemove(c echo.Context) error {
	return s.competitionChange(c, "competition-price-removed", func(bc *buyerCompetition) error {
		scheds, err := s.Competition.PriceSchedules(c.Request().Context(), bc.ID)
		if err != nil {
			return err
		}
		for _, sc := range scheds {
			for _, it := range sc.Items {
				if it.ID == c.Param("item") {
					return s.Competition.RemovePriceItem(c.Request().Context(), actor(c), it.ID)
				}
			}
		}
		s.auditDenied(c, "competition.write", "competition_price_item", c.Param("item"))
		return errNotFound
	})
}

func (s *Server) competitionPanelSave(c echo.Context) error {
	return s.competitionChange(c, "competition-panel-saved", func(bc *buyerCompetition) error {
		f, _ := c.FormParams()
		return s.Competition.AssignPanel(c.Request().Context(), actor(c), bc.ID, f[competition.FieldPanel])
	})
}

// competitionPublish publishes the draft and invites every supplier
// appointed to the lot; every problem the competition service finds is
// listed at once.
func (s *Server) competitionPublish(c echo.Context) error {
	return s.competitionChange(c, "competition-published", func(bc *buyerCompetition) error {
		return s.Competition.Publish(c.Request().Context(), actor(c), bc.ID)
	})
}
