package framework

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/sealed"
)

// An application is a supplier's response to one lot. It is held in the
// sealed tender box (package sealed): one box per lot, closing at the
// framework's application deadline, so a supplier applying to two lots gets
// a receipt for each and nobody at the consortium can tell who applied
// before the deadline. ApplicationContent is what is sealed, as JSON.

// ApplicationBox is the sealed box of a lot's applications.
func ApplicationBox(f *Framework, lotID string) sealed.Box {
	return sealed.Box{Type: sealed.TypeFrameworkApplication, ID: lotID, Deadline: f.ApplicationDeadline, Opens: f.ApplicationsOpen}
}

// Answers to a pass/fail requirement.
const (
	AnswerYes = "yes"
	AnswerNo  = "no"
)

// MaxAnswerText is the longest narrative answer, in characters.
const MaxAnswerText = 10000

// Answer is a supplier's response to one requirement. Which fields count
// depends on the requirement's response type: pass/fail needs Meets (yes or
// no) and may explain in Text; scored needs Text; numeric needs Number;
// a price schedule needs PricePence (whole pence) and may explain in Text.
type Answer struct {
	Meets      string `json:"meets,omitempty"`
	Text       string `json:"text,omitempty"`
	Number     string `json:"number,omitempty"`
	PricePence *int64 `json:"price_pence,omitempty"`
}

// AttachedDocument is a document from the supplier's library attached to an
// application; the hash pins the exact file that was sealed.
type AttachedDocument struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Declaration is a statement a supplier must agree to before applying.
type Declaration struct {
	Key  string
	Text string
}

// Declarations every application must make.
var Declarations = []Declaration{
	{Key: "exclusion", Text: "None of the mandatory or discretionary grounds for excluding a supplier apply to our organisation, or we have told the consortium about them and what we have done since."},
	{Key: "conflicts", Text: "We have declared any conflict of interest with the consortium or its member trusts, and we have not canvassed or colluded with anyone about this procurement."},
	{Key: "accurate", Text: "The information in this application is true and complete, and we can give evidence for it if asked."},
}

// ApplicationContent is what a supplier seals for one lot.
type ApplicationContent struct {
	LotID string `json:"lot_id"`
	// Answers are keyed by LotRequirement ID.
	Answers      map[string]Answer  `json:"answers"`
	Documents    []AttachedDocument `json:"documents"`
	Declarations []string           `json:"declarations"`
}

// Encode is the sealed form of the content.
func (c ApplicationContent) Encode() ([]byte, error) {
	if c.Answers == nil {
		c.Answers = map[string]Answer{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode application: %w", err)
	}
	return b, nil
}

// DecodeApplication reads sealed or draft content; empty input is an empty
// application for lotID.
func DecodeApplication(lotID string, b []byte) (ApplicationContent, error) {
	c := ApplicationContent{LotID: lotID, Answers: map[string]Answer{}}
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode application: %w", err)
	}
	if c.Answers == nil {
		c.Answers = map[string]Answer{}
	}
	return c, nil
}

// Declared reports whether the declaration with key was made.
func (c ApplicationContent) Declared(key string) bool {
	for _, d := range c.Declarations {
		if d == key {
			return true
		}
	}
	return false
}

// Gap is one thing an application lacks before it can be submitted. Field
// names the form field (the requirement's ID, or "declarations").
type Gap struct {
	Field   string
	Section string
	Message string
}

// FieldDeclarations names the declarations task in Gaps.
const FieldDeclarations = "declarations"

// AnswerProblem checks one answer against its requirement and says what is
// wrong in plain English, or "" when it is complete and well formed.
func AnswerProblem(r LotRequirement, a Answer) string {
	switch r.ResponseType {
	case catalogue.PassFail:
		if a.Meets != AnswerYes && a.Meets != AnswerNo {
			return fmt.Sprintf("Say whether you meet %s", r.Reference)
		}
	case catalogue.Scored:
		if strings.TrimSpace(a.Text) == "" {
			return fmt.Sprintf("Describe how you meet %s", r.Reference)
		}
	case catalogue.Numeric:
		if strings.TrimSpace(a.Number) == "" {
			return fmt.Sprintf("Enter a number for %s", r.Reference)
		}
	case catalogue.PriceSchedule:
		if a.PricePence == nil {
			return fmt.Sprintf("Enter a price in pounds for %s", r.Reference)
		}
	}
	return FormatProblem(r, a)
}

// FormatProblem says what is wrong with what was typed, without minding
// what is still missing (a draft may be incomplete), or "".
func FormatProblem(r LotRequirement, a Answer) string {
	if n := strings.TrimSpace(a.Number); r.ResponseType == catalogue.Numeric && n != "" {
		if _, err := strconv.ParseFloat(strings.ReplaceAll(n, ",", ""), 64); err != nil {
			return fmt.Sprintf("The answer to %s must be a number, like 12 or 99.5", r.Reference)
		}
	}
	if a.PricePence != nil && *a.PricePence < 0 {
		return fmt.Sprintf("The price for %s cannot be negative", r.Reference)
	}
	if utf8.RuneCountInString(a.Text) > MaxAnswerText {
		return fmt.Sprintf("The answer to %s must be %d characters or fewer", r.Reference, MaxAnswerText)
	}
	return ""
}

// Gaps lists, in the order the requirements are shown, everything the
// application still lacks: an answer to every requirement of the lot and
// every declaration. An empty list means it can be submitted.
func (c ApplicationContent) Gaps(reqs []LotRequirement) []Gap {
	var out []Gap
	for _, r := range reqs {
		if msg := AnswerProblem(r, c.Answers[r.ID]); msg != "" {
			out = append(out, Gap{Field: r.ID, Section: r.SectionTitle, Message: msg})
		}
	}
	for _, d := range Declarations {
		if !c.Declared(d.Key) {
			out = append(out, Gap{Field: FieldDeclarations, Message: "Agree to every declaration"})
			break
		}
	}
	return out
}

// ParsePounds reads an amount of money typed in pounds ("£1,250.50",
// "1250.5", "1250") as whole pence. ok is false for anything else,
// including more than two decimal places or a negative amount.
func ParsePounds(s string) (pence int64, ok bool) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "£"), ",", ""))
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, false
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if hasFrac && (len(frac) == 0 || len(frac) > 2) {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/100-1 {
		return 0, false
	}
	f := int64(0)
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	return w*100 + f, true
}

// Pounds writes pence as pounds: 125050 is "£1,250.50".
func Pounds(pence int64) string {
	neg := pence < 0
	if neg {
		pence = -pence
	}
	whole := strconv.FormatInt(pence/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := fmt.Sprintf("£%s.%02d", b.String(), pence%100)
	if neg {
		return "-" + out
	}
	return out
}

// Section is a group of a lot's requirements under one heading, as the
// application's task list shows them.
type Section struct {
	Title        string
	Requirements []LotRequirement
}

// Sections groups requirements (in their order) by section title, keeping
// the order in which sections first appear. Requirements without a section
// go under "General requirements".
func Sections(reqs []LotRequirement) []Section {
	var out []Section
	index := map[string]int{}
	for _, r := range reqs {
		title := strings.TrimSpace(r.SectionTitle)
		if title == "" {
			title = "General requirements"
		}
		i, ok := index[title]
		if !ok {
			i = len(out)
			index[title] = i
			out = append(out, Section{Title: title})
		}
		out[i].Requirements = append(out[i].Requirements, r)
	}
	return out
}
