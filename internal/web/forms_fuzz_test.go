package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Fuzz tests for the readers of form fields and query strings: whatever a
// browser (or anyone with curl) sends, they must not panic, and what they
// accept must be what was typed. The seed corpora are in
// testdata/fuzz/<FuzzName>/.

// fuzzQuery decodes a raw query string or form body as Echo does: the
// pairs that parse are kept and the rest dropped.
func fuzzQuery(raw string) url.Values {
	q, _ := url.ParseQuery(raw)
	return q
}

// A date read from its three fields is a real date whose day, month and
// year are the numbers typed, and it reads back the same once written
// into the fields again.
func FuzzDateInput(f *testing.F) {
	f.Add("31", "12", "2026")
	f.Add("29", "2", "2027")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, day, month, year string) {
		got, ok := dateInput(url.Values{"d-day": {day}, "d-month": {month}, "d-year": {year}}, "d")
		if strings.TrimSpace(day) == "" && strings.TrimSpace(month) == "" && strings.TrimSpace(year) == "" {
			if !ok || !got.IsZero() {
				t.Fatalf("blank date gave %v, %v", got, ok)
			}
			return
		}
		if !ok {
			if !got.IsZero() {
				t.Fatalf("refused date gave %v", got)
			}
			return
		}
		d, errD := strconv.Atoi(strings.TrimSpace(day))
		m, errM := strconv.Atoi(strings.TrimSpace(month))
		y, errY := strconv.Atoi(strings.TrimSpace(year))
		if errD != nil || errM != nil || errY != nil {
			t.Fatalf("accepted %q %q %q, which are not all numbers", day, month, year)
		}
		if got.Day() != d || int(got.Month()) != m || got.Year() != y || got.Location() != time.UTC ||
			got.Hour() != 0 || got.Minute() != 0 || got.Second() != 0 || got.Nanosecond() != 0 {
			t.Fatalf("%q %q %q read as %v", day, month, year, got)
		}
		if y < 1900 || y > 2200 {
			t.Fatalf("accepted year %d", y)
		}
		again := url.Values{}
		setDateInput(again, "d", &got)
		if back, ok := dateInput(again, "d"); !ok || !back.Equal(got) {
			t.Fatalf("%v written as %v reads back as %v, %v", got, again, back, ok)
		}
	})
}

// A date and time is either refused, blank (only when every field is), or
// a moment on the UK date typed; written back into the form it reads as
// the same moment, through the clock changes too.
func FuzzDateTimeInput(f *testing.F) {
	f.Add("15", "3", "2027", "17:00")
	f.Add("30", "3", "2031", "1:30am")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, day, month, year, clock string) {
		form := url.Values{"d-day": {day}, "d-month": {month}, "d-year": {year}, "d-time": {clock}}
		got, ok := dateTimeInput(form, "d")
		date, dateOK := dateInput(form, "d")
		if !ok {
			if !got.IsZero() {
				t.Fatalf("refused moment gave %v", got)
			}
			return
		}
		if !dateOK {
			t.Fatalf("accepted %v although the date %q %q %q is refused", got, day, month, year)
		}
		if got.IsZero() {
			if !date.IsZero() || strings.TrimSpace(clock) != "" {
				t.Fatalf("date %v, time %q read as blank", date, clock)
			}
			return
		}
		uk := got.In(uktime.Location)
		if got.Location() != time.UTC || got.Second() != 0 || got.Nanosecond() != 0 ||
			uk.Year() != date.Year() || uk.Month() != date.Month() || uk.Day() != date.Day() {
			t.Fatalf("%q %q %q %q read as %v (%v in the UK)", day, month, year, clock, got, uk)
		}
		if strings.TrimSpace(clock) == "" && (uk.Hour() != 17 || uk.Minute() != 0) {
			t.Fatalf("blank time read as %v, not 5pm", uk)
		}
		again := url.Values{}
		setMoment(again, "d", got)
		if back, ok := dateTimeInput(again, "d"); !ok || !back.Equal(got) {
			t.Fatalf("%v written as %v reads back as %v, %v", got, again, back, ok)
		}
	})
}

// The readers of whole numbers agree with each other: formInt, a weight
// (an error unless a number), a count (blank is none; thousands commas
// allowed) and a mark (pass or fail, or a number).
func FuzzNumberInputs(f *testing.F) {
	f.Add("60", 60)
	f.Add(" 1,100 ", 0)
	f.Add("pass", -1)
	f.Fuzz(func(t *testing.T, typed string, n int) {
		if got := formInt(url.Values{"n": {strconv.Itoa(n)}}, "n"); got != n {
			t.Fatalf("formInt(%d) = %d", n, got)
		}
		form := url.Values{"n": {typed}}
		trimmed := strings.TrimSpace(typed)
		plain, plainErr := strconv.Atoi(trimmed)
		asInt := formInt(form, "n")
		if padded := formInt(url.Values{"n": {" \t" + typed + "\r\n"}}, "n"); padded != asInt {
			t.Fatalf("formInt(%q) = %d but %d with spaces around", typed, asInt, padded)
		}
		// Anything that is not a whole number an int holds, a number too
		// big for one included, reads as 0.
		if (plainErr == nil && asInt != plain) || (plainErr != nil && asInt != 0) {
			t.Fatalf("formInt(%q) = %d", typed, asInt)
		}

		var v validate.Errors
		weight := weightInput(form, "n", "weight", &v)
		if v.Has("n") != (plainErr != nil) || (plainErr == nil && weight != plain) || len(v.List) > 1 {
			t.Fatalf("weightInput(%q) = %d, errors %v", typed, weight, v.List)
		}

		v = validate.Errors{}
		count := countInput(form, "n", "beds", &v)
		switch raw := strings.ReplaceAll(trimmed, ",", ""); {
		case raw == "":
			if count != nil || len(v.List) != 0 {
				t.Fatalf("blank count %q = %v, errors %v", typed, count, v.List)
			}
		case count != nil:
			if uncommaed := formInt(url.Values{"n": {strings.ReplaceAll(typed, ",", "")}}, "n"); len(v.List) != 0 || uncommaed != *count {
				t.Fatalf("countInput(%q) = %d (errors %v), but %d without the commas", typed, *count, v.List, uncommaed)
			}
		default:
			if !v.Has("n") || len(v.List) != 1 || plainErr == nil {
				t.Fatalf("countInput(%q) = nil, errors %v", typed, v.List)
			}
		}

		for _, rt := range []string{catalogue.PassFail, catalogue.Scored} {
			r := framework.LotRequirement{ID: "r1", Reference: "EPR-1", ResponseType: rt}
			mf := url.Values{framework.FieldMark(r): {typed}, framework.FieldJustification(r): {" " + typed + " "}}
			v = validate.Errors{}
			pass, score, why, ok := markInput(mf, r, &v)
			if ok == v.Has(framework.FieldMark(r)) || len(v.List) > 1 {
				t.Fatalf("%s mark %q: ok %v, errors %v", rt, typed, ok, v.List)
			}
			if !ok {
				if rt == catalogue.PassFail || trimmed == "" || plainErr == nil {
					t.Fatalf("%s mark %q refused", rt, typed)
				}
				continue
			}
			if why != trimmed {
				t.Fatalf("justification %q read as %q", typed, why)
			}
			if rt == catalogue.PassFail {
				if score != nil || (pass != nil) != (trimmed == "pass" || trimmed == "fail") || (pass != nil && *pass != (trimmed == "pass")) {
					t.Fatalf("pass/fail mark %q read as pass %v, score %v", typed, pass, score)
				}
				continue
			}
			if pass != nil || (score == nil) != (trimmed == "") || (score != nil && *score != plain) {
				t.Fatalf("scored mark %q read as pass %v, score %v", typed, pass, score)
			}
		}
	})
}

// A competition's details form gives errors only on its own fields: a
// weight that is not a number, a date that is not real, and the
// expression-of-interest deadline only when that step is chosen.
func FuzzCompetitionInput(f *testing.F) {
	f.Add("reference=SWL-EPR-2027%2F01&title=EPR&quality_weight=60&price_weight=40&expression_of_interest=yes&eoi_deadline-day=1&eoi_deadline-month=3&eoi_deadline-year=2027&eoi_deadline-time=12pm&version=2")
	f.Add("quality_weight=sixty&submission_deadline-day=31&submission_deadline-month=2&submission_deadline-year=2027")
	f.Fuzz(func(t *testing.T, body string) {
		form := fuzzQuery(body)
		in, v := competitionInput(form)
		known := []string{competition.FieldQualityWeight, competition.FieldPriceWeight}
		dates := map[string]time.Time{
			competition.FieldQuestionDeadline: in.Timeline.QuestionDeadline, competition.FieldSubmissionDeadline: in.Timeline.SubmissionDeadline,
			competition.FieldEvaluationEnd: in.Timeline.EvaluationEnd, competition.FieldPlannedAward: in.Timeline.PlannedAward,
		}
		if in.ExpressionOfInterest {
			dates[competition.FieldEOIDeadline] = in.Timeline.EOIDeadline
		} else if !in.Timeline.EOIDeadline.IsZero() {
			t.Fatalf("expression-of-interest deadline %v read without the step", in.Timeline.EOIDeadline)
		}
		for name, got := range dates {
			known = append(known, name)
			want, ok := dateTimeInput(form, name)
			if v.Has(name) == ok || !got.Equal(want) {
				t.Fatalf("%s read as %v (error %q), want %v, %v", name, got, v.For(name), want, ok)
			}
		}
		for _, e := range v.List {
			if !slices.Contains(known, e.Field) || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
		}
		if in.Version != formInt(form, "version") || in.Title != form.Get(competition.FieldTitle) {
			t.Fatalf("read %+v from %v", in, form)
		}
	})
}

// Only values the exit dashboard knows survive its filter, every known
// value does, and a filter written as a query reads back unchanged.
func FuzzExitFilter(f *testing.F) {
	f.Add("rating=red&region=Y56&system=epr&path=none&stage=procurement&trust=abc")
	f.Add("rating=Red&region=London&path=&stage=Not+started")
	f.Fuzz(func(t *testing.T, raw string) {
		q := fuzzQuery(raw)
		got := exitFilter(q)
		var regions []string
		for _, r := range orgs.Regions {
			regions = append(regions, r.Code)
		}
		for _, c := range []struct {
			param, value string
			known        []string
		}{
			{"rating", got.Rating, exit.Ratings},
			{"region", got.Region, regions},
			{"system", got.System, exit.SystemTypes},
			{"path", got.Path, append([]string{"none"}, exit.Paths...)},
			{"stage", got.Stage, exit.Stages},
		} {
			typed := q.Get(c.param)
			if c.value != "" && (c.value != typed || !slices.Contains(c.known, c.value)) {
				t.Fatalf("%s %q read as %q", c.param, typed, c.value)
			}
			if c.value == "" && slices.Contains(c.known, typed) {
				t.Fatalf("known %s %q dropped", c.param, typed)
			}
		}
		if got.TrustID != q.Get("trust") {
			t.Fatalf("trust %q read as %q", q.Get("trust"), got.TrustID)
		}
		if back := exitFilter(filterQuery("consortium-id", got)); back != got {
			t.Fatalf("filter %+v reads back as %+v", got, back)
		}
	})
}

// The contract register's filter passes the trust, supplier and status on
// as typed (the register checks them), reads the window as a number (-1
// when it is not one, so the register refuses it) and the page as
// formInt does; the page and CSV links keep the same filter.
func FuzzRegisterFilter(f *testing.F) {
	f.Add("trust=t1&supplier=s1&window=6&state=active&page=2")
	f.Add("window=soon&page=-3")
	f.Fuzz(func(t *testing.T, raw string) {
		q := fuzzQuery(raw)
		got := registerFilter(q)
		if got.TrustID != q.Get("trust") || got.SupplierID != q.Get("supplier") || got.State != q.Get("state") || got.Page != formInt(q, "page") {
			t.Fatalf("%v read as %+v", q, got)
		}
		typed := strings.TrimSpace(q.Get("window"))
		n, err := strconv.Atoi(typed)
		switch {
		case typed == "" && got.Window != 0,
			typed != "" && err == nil && got.Window != n,
			typed != "" && err != nil && got.Window != -1:
			t.Fatalf("window %q read as %d", typed, got.Window)
		}
		v := &registerView{Filter: got}
		for _, link := range []string{v.PageURL(got.Page), v.CSVURL()} {
			u, err := url.Parse(link)
			if err != nil {
				t.Fatalf("link %q: %v", link, err)
			}
			want := got
			if u.Path == "/register.csv" {
				want.Page = 0
			}
			if back := registerFilter(u.Query()); back != want {
				t.Fatalf("filter %+v linked as %q reads back as %+v", got, link, back)
			}
		}
	})
}
