package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// templates maps a page name ("admin/organisations") to its parsed template.
// All are parsed once at start-up: a missing or broken template stops the
// portal starting instead of failing a request later.
type templates map[string]*template.Template

var funcs = template.FuncMap{
	"roleLabel":  func(r string) string { return authz.Role(r).Label() },
	"kindLabel":  orgs.KindLabel,
	"regionName": orgs.RegionName,
	"date": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.Format("2 January 2006")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.Format("2 January 2006")
		}
		return ""
	},
	"datetime":         func(t time.Time) string { return t.UTC().Format("2 January 2006 15:04:05 UTC") },
	"isoDate":          func(t time.Time) string { return t.Format(time.DateOnly) },
	"errorFor":         func(v *validate.Errors, field string) string { return v.For(field) },
	"lower":            strings.ToLower,
	"priorityLabel":    catalogue.PriorityLabel,
	"frameworkState":   framework.StateLabel,
	"regimeLabel":      framework.RegimeLabel,
	"callOffLabel":     framework.CallOffLabel,
	"appointmentLabel": framework.AppointmentLabel,
	"ukTime":           ukTime,
	"ukTimeSeconds":    ukTimeSeconds,
	"ukDate":           uktime.Date,
	"contractState":    contracts.StateLabel,
	"pounds": func(p *int64) string {
		if p == nil {
			return ""
		}
		return framework.Pounds(*p)
	},
	"money":       framework.Pounds,
	"ratingLabel": exit.RatingLabel,
	"ratings":     func() []string { return exit.Ratings },
	"systemTypes": func() []string { return exit.SystemTypes },
	"exitPaths":   func() []string { return exit.Paths },
	"regions":     func() []struct{ Code, Name string } { return orgs.Regions },
	"systemLabel": exit.SystemLabel,
	"pathLabel":   exit.PathLabel,
	"stageLabel":  exit.StageLabel,
	// ratingTag is the NHS.UK tag colour of a rating.
	"ratingTag": func(r string) string {
		switch r {
		case exit.Red:
			return "nhsuk-tag--red"
		case exit.Amber:
			return "nhsuk-tag--yellow"
		}
		return "nhsuk-tag--green"
	},
	"sectionLabel": sectionLabel,
	"poundsInput": func(p *int64) string {
		if p == nil {
			return ""
		}
		return strings.TrimPrefix(strings.ReplaceAll(framework.Pounds(*p), ",", ""), "£")
	},
	"descriptor": func(d catalogue.Descriptors, mark int) string {
		if mark < 0 || mark >= len(d) {
			return ""
		}
		return d[mark]
	},
	"deref1":            func(b *bool) bool { return b != nil && *b },
	"derefInt":          func(n *int) int { return *n },
	"seq":               func(n int) []int { return make([]int, n) },
	"add":               func(a, b int) int { return a + b },
	"responseTypeLabel": catalogue.ResponseTypeLabel,
	"splitParagraphs": func(s string) []string {
		var out []string
		for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"dateParts": func() []struct{ Key, Label string } {
		return []struct{ Key, Label string }{{"day", "Day"}, {"month", "Month"}, {"year", "Year"}}
	},
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict needs pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// ukTime is a moment as pages show it, with the day and the UK time zone
// said; "Not set" for none.
func ukTime(t time.Time) string {
	if t.IsZero() {
		return "Not set"
	}
	return uktime.MomentWithDay(t) + " (UK time)"
}

// ukTimeSeconds is a moment to the second, as receipts show it.
func ukTimeSeconds(t time.Time) string { return uktime.MomentSeconds(t) + " (UK time)" }

// parseTemplates reads layout.html and partials/*.html as the base and every
// other .html file as a page on top of a copy of it.
func parseTemplates(views fs.FS) (templates, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(views, "layout.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	out := templates{}
	err = fs.WalkDir(views, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p == "email" {
			return fs.SkipDir // email templates belong to internal/notify
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || p == "layout.html" || strings.HasPrefix(p, "partials/") {
			return err
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(views, p); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		if t.Lookup("content") == nil {
			return fmt.Errorf("%s defines no \"content\" block", p)
		}
		out[strings.TrimSuffix(p, path.Ext(p))] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// renderBuffers hold pages while they render. A page is rendered whole
// before any of it is sent, and a buffer grown to a page's size is kept
// for the next one: growing a new one for every page was a sixth of the
// work of rendering a list.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept for reuse, so one very long
// page does not pin its memory.
const maxPooledBuffer = 1 << 20

// rendered renders page name whole and hands it to send, so a template
// error becomes a clean 500 page instead of half a page; the bytes are
// reused once send returns.
func (t templates) rendered(name string, data any, send func([]byte) error) error {
	tpl, ok := t[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			renderBuffers.Put(buf)
		}
	}()
	if err := tpl.ExecuteTemplate(buf, "layout.html", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return send(buf.Bytes())
}

// render writes page name with status.
func (s *Server) render(c echo.Context, status int, name string, data *Page) error {
	if s.rendering != nil {
		s.rendering(name, data)
	}
	return s.templates.rendered(name, data, func(page []byte) error { return c.HTMLBlob(status, page) })
}

// renderOK writes page name with 200.
func (s *Server) renderOK(c echo.Context, name string, data *Page) error {
	return s.render(c, http.StatusOK, name, data)
}

// RenderStandalone renders a page outside a request of the portal's own (the
// development provider's sign-in page), with the portal's layout.
func (s *Server) RenderStandalone(w http.ResponseWriter, name, title string, data any) error {
	page := &Page{Title: title, Data: data, Can: func(string, string) bool { return false }}
	return s.templates.rendered(name, page, func(b []byte) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write(b)
		return err
	})
}
