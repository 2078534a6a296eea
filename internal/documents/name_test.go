package documents

import (
	"errors"
	"mime"
	"strings"
	"testing"
)

func TestCleanNameAccepts(t *testing.T) {
	cases := map[string]string{
		"report.pdf":                            "report.pdf",
		"  Tender response (final).docx  ":      "Tender response (final).docx",
		"\u00a0nbsp around.pdf\u3000":           "nbsp around.pdf",
		"Évaluation – lot 1.pdf":                "Évaluation – lot 1.pdf",
		"Ταυτότητα.pdf":                         "Ταυτότητα.pdf",
		"入札書.xlsx":                              "入札書.xlsx",
		"تقرير.odt":                             "تقرير.odt",
		"a..b.pdf":                              "a..b.pdf",
		"v1.2 pricing.final.xlsx":               "v1.2 pricing.final.xlsx",
		"O'Neill & Sons \"quote\" #3.pdf":       "O'Neill & Sons \"quote\" #3.pdf",
		"x.PDF":                                 "x.PDF",
		strings.Repeat("a", 196) + ".pdf":       strings.Repeat("a", 196) + ".pdf",
		"  " + strings.Repeat("é", 97) + ".pdf": strings.Repeat("é", 97) + ".pdf", // 198 bytes after trimming
	}
	for in, want := range cases {
		got, err := CleanName(in)
		if err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCleanNameRefuses(t *testing.T) {
	cases := map[string]string{
		"":                                "has no name",
		"   ":                             "is blank",
		"../etc/passwd":                   "contains / or \\",
		"..\\x":                           "contains / or \\",
		"docs/report.pdf":                 "contains / or \\",
		`C:\Users\me\report.pdf`:          "contains / or \\",
		"..":                              "not a usable name",
		". . .":                           "not a usable name",
		"report":                          "needs a name and a type ending",
		"report.":                         "needs a name and a type ending",
		".pdf":                            "needs a name and a type ending",
		"...pdf":                          "needs a name and a type ending",
		"report\x00.pdf":                  "hidden characters",
		"report.pdf\r\nX-Evil: 1":         "hidden characters",
		"report\n.pdf":                    "hidden characters",
		"\treport.pdf":                    "hidden characters",
		"report\x7f.pdf":                  "hidden characters",
		"report\u0085.pdf":                "hidden characters",
		"invoice\u202Efdp.exe":            "hidden characters",
		"a\u2066b.pdf":                    "hidden characters",
		"a\u2028b.pdf":                    "hidden characters",
		"report\xff.pdf":                  "cannot be read",
		"\xc0\xafetc.pdf":                 "cannot be read",
		strings.Repeat("a", 197) + ".pdf": "too long",
		strings.Repeat("é", 99) + ".pdf":  "too long", // 202 bytes
	}
	for in, want := range cases {
		got, err := CleanName(in)
		var re *RejectError
		if !errors.As(err, &re) {
			t.Errorf("CleanName(%q) = %q, %v; want a refusal", in, got, err)
			continue
		}
		if !strings.Contains(re.Message, want) || !strings.Contains(re.Message, "Please") {
			t.Errorf("CleanName(%q): message %q, want it to contain %q and what to do", in, re.Message, want)
		}
		if strings.ContainsAny(re.Message, "\x00\r\n\u202E") {
			t.Errorf("CleanName(%q): message repeats hidden characters: %q", in, re.Message)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	cases := []struct{ name, want string }{
		{"report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"Évaluation – lot 1.pdf", `attachment; filename="_valuation _ lot 1.pdf"; filename*=UTF-8''%C3%89valuation%20%E2%80%93%20lot%201.pdf`},
		{`a "quoted" \ name;%.pdf`, `attachment; filename="a _quoted_ _ name__.pdf"; filename*=UTF-8''a%20%22quoted%22%20%5C%20name%3B%25.pdf`},
		{"x\r\nSet-Cookie: a=b.pdf", `attachment; filename="x__Set-Cookie_ a=b.pdf"; filename*=UTF-8''x__Set-Cookie%3A%20a%3Db.pdf`},
		{"", `attachment; filename="download"; filename*=UTF-8''download`},
	}
	for _, c := range cases {
		if got := ContentDisposition(c.name); got != c.want {
			t.Errorf("ContentDisposition(%q)\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// What a client decodes from the header is the name, for any clean name,
// and the header is always one line of printable ASCII.
func TestContentDispositionRoundTrip(t *testing.T) {
	for _, name := range []string{
		"report.pdf", "Évaluation – lot 1.pdf", "入札書.xlsx", "O'Neill & Sons \"quote\" #3.pdf",
		"100% done; really.csv", "emoji 📄.pdf", "a+b=c (v2) [draft] {x} ~.txt",
	} {
		h := ContentDisposition(name)
		if strings.IndexFunc(h, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			t.Errorf("%q: header has non-printable or non-ASCII characters: %q", name, h)
		}
		disposition, params, err := mime.ParseMediaType(h)
		if err != nil || disposition != "attachment" || params["filename"] != name {
			t.Errorf("%q: parsed as %q %q %v", name, disposition, params, err)
		}
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"report.pdf", "../x", "a\r\nb.pdf", "Évaluation – lot 1.pdf", "\xff", " . ", "a\u202Eb.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h := ContentDisposition(name)
		if strings.IndexFunc(h, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 || strings.Count(h, `"`) != 2 {
			t.Fatalf("unsafe header %q", h)
		}
		clean, err := CleanName(name)
		if err != nil {
			var re *RejectError
			if !errors.As(err, &re) {
				t.Fatalf("not a refusal: %v", err)
			}
			return
		}
		if clean == "" || len(clean) > MaxNameBytes || strings.ContainsAny(clean, `/\`) {
			t.Fatalf("accepted %q", clean)
		}
		if again, err := CleanName(clean); err != nil || again != clean {
			t.Fatalf("not idempotent: %q -> %q, %v", clean, again, err)
		}
		if _, params, err := mime.ParseMediaType(ContentDisposition(clean)); err != nil || params["filename"] != clean {
			t.Fatalf("%q does not round-trip: %v %v", clean, params, err)
		}
	})
}
