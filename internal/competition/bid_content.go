package competition

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/nhsprocure/portal/internal/framework"
)

// A bid is a supplier's response to a competition, held in the
// competition's sealed tender box (BidBox). BidContent is what is sealed, as
// JSON: the same kinds of answer, attached document and declaration as a
// framework application (framework.ApplicationContent), checked by the same
// rules, plus a price for every line of every buying trust's price
// schedule.

// Field names of a bid's problems. An answer's problem is named by its
// requirement's ID and a price's by FieldPrice, as a framework application's
// are; the declarations' by framework.FieldDeclarations.
const (
	// FieldBid names why a supplier may not bid at all (its appointment is
	// suspended, it declined) or has nothing to confirm.
	FieldBid = "bid"
	// FieldAnswers names answers to requirements the competition does not
	// have.
	FieldAnswers = "answers"
	// FieldPrices names prices for lines no price schedule has.
	FieldPrices = "prices"
	// FieldBidDocuments names problems with the attached documents.
	FieldBidDocuments = "documents"
)

// FieldPrice is the field name of the unit price of one price schedule line
// (line IDs are unique across the competition's schedules).
func FieldPrice(itemID string) string { return "price-" + itemID }

// BidContent is what a supplier seals as its bid.
type BidContent struct {
	CompetitionID string `json:"competition_id"`
	// Answers are keyed by the competition requirement's ID.
	Answers map[string]framework.Answer `json:"answers"`
	// Prices are unit prices in pence, keyed by buying trust (organisation
	// ID) and then by price schedule line (PriceItem ID). A line without an
	// entry is not priced; zero is a price.
	Prices map[string]map[string]int64 `json:"prices"`
	// Documents are documents from the supplier's library, pinned by their
	// SHA-256.
	Documents []framework.AttachedDocument `json:"documents"`
	// Declarations are the keys of framework.Declarations made.
	Declarations []string `json:"declarations"`
}

// Encode is the sealed form of the content.
func (c BidContent) Encode() ([]byte, error) {
	if c.Answers == nil {
		c.Answers = map[string]framework.Answer{}
	}
	if c.Prices == nil {
		c.Prices = map[string]map[string]int64{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode bid: %w", err)
	}
	return b, nil
}

// DecodeBid reads sealed or draft content; empty input is an empty bid for
// competitionID.
func DecodeBid(competitionID string, b []byte) (BidContent, error) {
	c := BidContent{CompetitionID: competitionID}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &c); err != nil {
			return BidContent{CompetitionID: competitionID, Answers: map[string]framework.Answer{}, Prices: map[string]map[string]int64{}},
				fmt.Errorf("decode bid: %w", err)
		}
	}
	if c.Answers == nil {
		c.Answers = map[string]framework.Answer{}
	}
	if c.Prices == nil {
		c.Prices = map[string]map[string]int64{}
	}
	return c, nil
}

// Declared reports whether the declaration with key was made.
func (c BidContent) Declared(key string) bool { return slices.Contains(c.Declarations, key) }

// Price returns the unit price in pence of a buying trust's line, and
// whether it was given.
func (c BidContent) Price(orgID, itemID string) (int64, bool) {
	p, ok := c.Prices[orgID][itemID]
	return p, ok
}

// SetPrice records the unit price in pence of a buying trust's line.
func (c *BidContent) SetPrice(orgID, itemID string, pence int64) {
	if c.Prices == nil {
		c.Prices = map[string]map[string]int64{}
	}
	if c.Prices[orgID] == nil {
		c.Prices[orgID] = map[string]int64{}
	}
	c.Prices[orgID][itemID] = pence
}

// AsLotRequirement describes the competition requirement the way the
// framework's answer rules (framework.AnswerProblem, FormatProblem) read
// one, so a bid's answers are checked exactly as an application's are.
func (r Requirement) AsLotRequirement() framework.LotRequirement {
	return framework.LotRequirement{
		ID: r.ID, Reference: r.Reference, Text: r.Text, Priority: r.Priority, Weight: r.Weight,
		ResponseType: r.ResponseType, Descriptors: r.Descriptors, Guidance: r.Guidance, SectionTitle: r.SectionTitle, Position: r.Position,
	}
}

// Errors of TotalPrice.
var (
	// ErrUnpriced: a line of the schedule has no price.
	ErrUnpriced = errors.New("a line of the price schedule has no price")
	// ErrPriceTooLarge: the total does not fit in 64 bits of pence, or a
	// price is negative.
	ErrPriceTooLarge = errors.New("the prices are too large to add up")
)

// TotalPrice is the bid's total price for one buying trust, in pence: the
// sum over the trust's schedule of unit price times quantity. It fails with
// ErrUnpriced when a line has no price and ErrPriceTooLarge when a price is
// negative or the total would overflow, never returning a wrong total.
func TotalPrice(c BidContent, sc Schedule) (int64, error) {
	var total int64
	for _, it := range sc.Items {
		p, ok := c.Price(sc.Buyer.OrganisationID, it.ID)
		if !ok {
			return 0, fmt.Errorf("%s: %w", it.Name, ErrUnpriced)
		}
		if p < 0 || it.Quantity < 0 || (it.Quantity > 0 && p > math.MaxInt64/it.Quantity) {
			return 0, fmt.Errorf("%s: %w", it.Name, ErrPriceTooLarge)
		}
		line := p * it.Quantity
		if total > math.MaxInt64-line {
			return 0, fmt.Errorf("%s: %w", it.Name, ErrPriceTooLarge)
		}
		total += line
	}
	return total, nil
}

// TotalPrices is TotalPrice for every buying trust, keyed by its
// organisation ID.
func TotalPrices(c BidContent, scheds []Schedule) (map[string]int64, error) {
	out := make(map[string]int64, len(scheds))
	for _, sc := range scheds {
		t, err := TotalPrice(c, sc)
		if err != nil {
			return nil, fmt.Errorf("price schedule of %s: %w", sc.Buyer.Organisation.Name, err)
		}
		out[sc.Buyer.OrganisationID] = t
	}
	return out, nil
}

// Gaps lists, in the order the bid is shown, everything that stops it being
// submitted: an answer to every requirement (whatever its priority, as for
// a framework application), a price for every line of every buying trust's
// schedule, every declaration, and anything malformed (FormatProblems). An
// empty list means it can be submitted. The attached documents are checked
// against the supplier's library by SubmitBid, which needs the database.
func (c BidContent) Gaps(reqs []Requirement, scheds []Schedule) []framework.Gap {
	return c.problems(reqs, scheds, true)
}

// FormatProblems lists what is wrong with what was entered, without minding
// what is still missing (a draft may be incomplete): malformed answers,
// negative or overflowing prices, answers or prices for things the
// competition does not have, unknown declarations and documents attached
// twice or without their hash.
func (c BidContent) FormatProblems(reqs []Requirement, scheds []Schedule) []framework.Gap {
	return c.problems(reqs, scheds, false)
}

func (c BidContent) problems(reqs []Requirement, scheds []Schedule, complete bool) []framework.Gap {
	var out []framework.Gap
	known := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		known[r.ID] = true
		lr := r.AsLotRequirement()
		a, answered := c.Answers[r.ID]
		msg := ""
		switch {
		case complete:
			msg = framework.AnswerProblem(lr, a)
		case answered:
			msg = framework.FormatProblem(lr, a)
		}
		if msg != "" {
			out = append(out, framework.Gap{Field: r.ID, Section: r.SectionTitle, Message: msg})
		}
	}
	for id := range c.Answers {
		if !known[id] {
			out = append(out, framework.Gap{Field: FieldAnswers, Message: "One of the answers is for a requirement that is not part of this competition; reload the page and answer again"})
			break
		}
	}

	lines := map[string]map[string]bool{}
	for _, sc := range scheds {
		org := sc.Buyer.OrganisationID
		lines[org] = map[string]bool{}
		section := "Price schedule: " + sc.Buyer.Organisation.Name
		bad := false
		for _, it := range sc.Items {
			lines[org][it.ID] = true
			p, ok := c.Price(org, it.ID)
			switch {
			case !ok && complete:
				out = append(out, framework.Gap{Field: FieldPrice(it.ID), Section: section,
					Message: fmt.Sprintf("Enter the price per %s of %s for %s", it.Unit, it.Name, sc.Buyer.Organisation.Name)})
				bad = true
			case ok && p < 0:
				out = append(out, framework.Gap{Field: FieldPrice(it.ID), Section: section,
					Message: fmt.Sprintf("The price per %s of %s for %s cannot be negative", it.Unit, it.Name, sc.Buyer.Organisation.Name)})
				bad = true
			case !ok:
				bad = true
			}
		}
		// Only a complete, non-negative schedule has a total to check.
		if !bad {
			if _, err := TotalPrice(c, sc); errors.Is(err, ErrPriceTooLarge) {
				out = append(out, framework.Gap{Field: FieldPrices, Section: section,
					Message: fmt.Sprintf("The prices for %s add up to more than the portal can hold; check them", sc.Buyer.Organisation.Name)})
			}
		}
	}
	unknownPrice := false
	for org, items := range c.Prices {
		for id := range items {
			if !lines[org][id] {
				unknownPrice = true
			}
		}
	}
	if unknownPrice {
		out = append(out, framework.Gap{Field: FieldPrices, Message: "One of the prices is for a line that is not in a buying trust's price schedule; reload the page and enter the prices again"})
	}

	seen := map[string]bool{}
	for _, d := range c.Documents {
		switch {
		case d.ID == "" || d.SHA256 == "":
			out = append(out, framework.Gap{Field: FieldBidDocuments, Message: "One of the attached documents is not in your organisation's library; attach it again"})
		case seen[d.ID]:
			out = append(out, framework.Gap{Field: FieldBidDocuments, Message: fmt.Sprintf("%s is attached twice", d.Name)})
		}
		seen[d.ID] = true
	}

	declared := map[string]bool{}
	for _, d := range framework.Declarations {
		declared[d.Key] = true
	}
	for _, k := range c.Declarations {
		if !declared[k] {
			out = append(out, framework.Gap{Field: framework.FieldDeclarations, Message: "One of the declarations is not one the portal asks for; make the declarations again"})
			break
		}
	}
	if complete {
		for _, d := range framework.Declarations {
			if !c.Declared(d.Key) {
				out = append(out, framework.Gap{Field: framework.FieldDeclarations, Message: "Agree to every declaration"})
				break
			}
		}
	}
	return out
}
