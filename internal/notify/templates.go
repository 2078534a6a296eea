package notify

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"strings"
	texttemplate "text/template"
	"time"
	_ "time/tzdata" // deadlines are shown in UK time even where the host has no zone files

	"github.com/nhsprocure/portal/internal/uktime"
)

// Template files in the email folder besides the three per kind.
const (
	layoutText = "layout.txt"
	layoutHTML = "layout.html"
)

// Templates are the parsed email templates of every kind. They are loaded
// once at start-up; a missing or broken template stops the portal starting
// rather than failing the first time someone is notified.
type Templates struct {
	layout *texttemplate.Template
	kinds  map[string]kindTemplates
}

type kindTemplates struct {
	subject *texttemplate.Template
	body    *texttemplate.Template
	html    *htmltemplate.Template // layout.html with the kind's HTML as "content"
}

// TemplateData is what every template is given.
type TemplateData struct {
	Kind      Kind
	Recipient Recipient
	// Data is the map given to Notify (after a JSON round trip, so the
	// email job later sees exactly the same values).
	Data map[string]any
	// Link is the absolute URL of the page the notification is about, or "".
	Link string
	// PortalURL is the portal's base URL; PreferencesURL the page where
	// people choose which notifications they get.
	PortalURL      string
	PreferencesURL string
	// Subject is the rendered subject and Body the rendered <kind>.txt,
	// for the layouts (and the HTML title); empty in the kinds' own
	// templates.
	Subject string
	Body    string
}

// Recipient is the person a notification is for.
type Recipient struct {
	Name  string
	Email string
}

// Rendered is one notification rendered for one person.
type Rendered struct {
	Subject string
	// Body is the kind's own text, shown in the portal.
	Body string
	// Text and HTML are the two parts of the email.
	Text string
	HTML string
}

// LoadTemplates parses layout.txt, layout.html and <kind>.subject.txt,
// <kind>.txt and <kind>.html for every kind from fsys (the email folder of
// the views, e.g. fs.Sub(portal.Views(), "email")). Every problem is
// reported at once: missing files, files that belong to no kind (usually a
// misspelt kind) and templates that do not parse.
func LoadTemplates(fsys fs.FS) (*Templates, error) {
	var errs []error
	read := func(name string) string {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("email template %s is missing", name))
			} else {
				errs = append(errs, fmt.Errorf("read email template %s: %w", name, err))
			}
			return ""
		}
		return string(b)
	}
	t := &Templates{kinds: map[string]kindTemplates{}}
	var err error
	if t.layout, err = newText(layoutText, read(layoutText)); err != nil {
		errs = append(errs, err)
	}
	htmlLayout, err := htmltemplate.New(layoutHTML).Funcs(htmlFuncs).Option("missingkey=error").Parse(read(layoutHTML))
	if err != nil {
		errs = append(errs, fmt.Errorf("email template %s: %w", layoutHTML, err))
	}
	known := map[string]bool{layoutText: true, layoutHTML: true}
	for _, k := range Kinds {
		var kt kindTemplates
		subjectName, bodyName, htmlName := k.Name+".subject.txt", k.Name+".txt", k.Name+".html"
		known[subjectName], known[bodyName], known[htmlName] = true, true, true
		if kt.subject, err = newText(subjectName, read(subjectName)); err != nil {
			errs = append(errs, err)
		}
		if kt.body, err = newText(bodyName, read(bodyName)); err != nil {
			errs = append(errs, err)
		}
		content := read(htmlName)
		if htmlLayout != nil {
			if kt.html, err = htmlLayout.Clone(); err == nil {
				_, err = kt.html.New("content").Parse(content)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("email template %s: %w", htmlName, err))
			}
		}
		t.kinds[k.Name] = kt
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		errs = append(errs, fmt.Errorf("list email templates: %w", err))
	}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if !e.IsDir() && (ext == ".txt" || ext == ".html") && !known[e.Name()] {
			errs = append(errs, fmt.Errorf("email template %s belongs to no notification kind (kinds are listed in internal/notify/kinds.go)", e.Name()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func newText(name, text string) (*texttemplate.Template, error) {
	t, err := texttemplate.New(name).Funcs(textFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("email template %s: %w", name, err)
	}
	return t, nil
}

// Render renders the subject, portal text and both email parts of a
// notification of kind for d.Recipient.
func (t *Templates) Render(kind string, d TemplateData) (Rendered, error) {
	kt, ok := t.kinds[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("no email templates for notification kind %q", kind)
	}
	if k, ok := KindByName(kind); ok {
		d.Kind = k
	}
	d.Subject, d.Body = "", ""
	var r Rendered
	var b bytes.Buffer
	if err := kt.subject.Execute(&b, d); err != nil {
		return r, fmt.Errorf("render %s subject: %w", kind, err)
	}
	// A subject is one header line: newlines could forge headers.
	r.Subject = strings.Join(strings.Fields(b.String()), " ")
	if r.Subject == "" {
		return r, fmt.Errorf("render %s subject: the subject is empty", kind)
	}
	b.Reset()
	if err := kt.body.Execute(&b, d); err != nil {
		return r, fmt.Errorf("render %s text: %w", kind, err)
	}
	r.Body = strings.TrimSpace(b.String())
	b.Reset()
	d.Subject, d.Body = r.Subject, r.Body
	if err := t.layout.Execute(&b, d); err != nil {
		return r, fmt.Errorf("render %s email text: %w", kind, err)
	}
	r.Text = strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := kt.html.Execute(&b, d); err != nil {
		return r, fmt.Errorf("render %s email HTML: %w", kind, err)
	}
	r.HTML = b.String()
	return r, nil
}

var funcs = map[string]any{
	"date":       formatDate,
	"datetime":   formatDateTime,
	"paragraphs": paragraphs,
}

var (
	textFuncs = texttemplate.FuncMap(funcs)
	htmlFuncs = htmltemplate.FuncMap(funcs)
)

// formatDate writes a date the GOV.UK way: "Monday 14 December 2026".
func formatDate(v any) (string, error) {
	t, err := toTime(v)
	if err != nil {
		return "", err
	}
	return uktime.DateWithDay(t), nil
}

// formatDateTime writes a moment the GOV.UK way in UK time:
// "5:30pm on Monday 14 December 2026 (UK time)", with "5pm", "midday" and
// "midnight" for whole hours.
func formatDateTime(v any) (string, error) {
	t, err := toTime(v)
	if err != nil {
		return "", err
	}
	return uktime.MomentWithDay(t) + " (UK time)", nil
}

// toTime accepts a time, a pointer to one or the RFC 3339 text a time
// becomes in JSON.
func toTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case *time.Time:
		if t != nil {
			return *t, nil
		}
	case string:
		parsed, err := time.Parse(time.RFC3339Nano, t)
		if err == nil {
			return parsed, nil
		}
	}
	return time.Time{}, fmt.Errorf("%v (%T) is not a date and time", v, v)
}

// paragraphs splits text at blank lines, for showing a person's words (a
// question, an answer) as HTML paragraphs.
func paragraphs(v any) []string {
	text := strings.ReplaceAll(fmt.Sprint(v), "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
