package catalogue

import (
	"strings"
	"unicode"
)

// MoSCoW priorities as stored.
const (
	Must   = "must"
	Should = "should"
	Could  = "could"
	Wont   = "wont"
)

// Priorities lists the priorities in the order forms offer them.
var Priorities = []string{Must, Should, Could, Wont}

// Response types as stored.
const (
	PassFail      = "pass_fail"
	Scored        = "scored"
	Numeric       = "numeric"
	PriceSchedule = "price_schedule"
)

// ResponseTypes lists the response types in the order forms offer them.
var ResponseTypes = []string{PassFail, Scored, Numeric, PriceSchedule}

// PriorityLabel is the word people use for a stored priority.
func PriorityLabel(p string) string {
	switch p {
	case Must:
		return "Must"
	case Should:
		return "Should"
	case Could:
		return "Could"
	case Wont:
		return "Won't"
	}
	return p
}

// ResponseTypeLabel is the plain-English name of a stored response type.
func ResponseTypeLabel(t string) string {
	switch t {
	case PassFail:
		return "Pass/fail"
	case Scored:
		return "Scored (0-4)"
	case Numeric:
		return "Numeric"
	case PriceSchedule:
		return "Price schedule"
	}
	return t
}

// ParsePriority reads a priority the way trusts write it in spreadsheets:
// "Must", "must have", "M", "Won't", "wont", "Won’t have" (Excel turns the
// apostrophe curly), ignoring case. ok is false for anything else.
func ParsePriority(s string) (priority string, ok bool) {
	w := words(s)
	w = strings.TrimSuffix(w, " have")
	switch w {
	case "must", "m":
		return Must, true
	case "should", "s":
		return Should, true
	case "could", "c":
		return Could, true
	case "wont", "won't", "w", "will not":
		return Wont, true
	}
	return "", false
}

// ParseResponseType reads a response type by its label ("Pass/fail",
// "Scored (0-4)", "Numeric", "Price schedule"), its stored name
// ("price_schedule") or a common variant ("pass or fail", "scored
// narrative"), ignoring case.
func ParseResponseType(s string) (responseType string, ok bool) {
	// Drop a bracketed note such as "(0-4)".
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = s[:i]
	}
	switch words(s) {
	case "pass fail", "pass or fail", "passfail", "yes no":
		return PassFail, true
	case "scored", "score", "scored narrative", "narrative":
		return Scored, true
	case "numeric", "number", "numerical":
		return Numeric, true
	case "price schedule", "price", "pricing", "pricing schedule":
		return PriceSchedule, true
	}
	return "", false
}

// words lower-cases s, makes curly apostrophes straight and turns every
// other run of punctuation or space into one space.
func words(s string) string {
	s = strings.ToLower(strings.NewReplacer("’", "'", "‘", "'").Replace(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}
