package devidp

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	msgRequestGone = "This sign-in request is unknown or has expired. Go back to the portal and sign in again."
	msgRequestDone = "This sign-in request has already been completed. Go back to the portal and sign in again."
	msgUnknownUser = "That user is not known to the development identity provider. Choose one from the list."
	msgUsersFailed = "The list of users could not be loaded. See the server log."
)

// showLogin is where the op package sends the browser for each new
// authorization request.
func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if msg := p.pendingError(r.Context(), id); msg != "" {
		p.renderPage(w, r, http.StatusBadRequest, LoginPage{FormAction: p.loginPath, Error: msg})
		return
	}
	users, err := p.sortedUsers(r.Context())
	if err != nil {
		p.logger.ErrorContext(r.Context(), "devidp: loading users", "error", err)
		p.renderPage(w, r, http.StatusInternalServerError, LoginPage{AuthRequestID: id, FormAction: p.loginPath, Error: msgUsersFailed})
		return
	}
	p.renderPage(w, r, http.StatusOK, LoginPage{AuthRequestID: id, FormAction: p.loginPath, Users: users})
}

// submitLogin completes the authorization request as the chosen user and
// hands back to the op package's callback, which issues the code to the
// client's redirect_uri.
func (p *Provider) submitLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.renderPage(w, r, http.StatusBadRequest, LoginPage{FormAction: p.loginPath, Error: msgRequestGone})
		return
	}
	id, subject := r.PostForm.Get("authRequestID"), r.PostForm.Get("subject")
	if msg := p.pendingError(ctx, id); msg != "" {
		p.renderPage(w, r, http.StatusBadRequest, LoginPage{FormAction: p.loginPath, Error: msg})
		return
	}
	users, err := p.sortedUsers(ctx)
	if err != nil {
		p.logger.ErrorContext(ctx, "devidp: loading users", "error", err)
		p.renderPage(w, r, http.StatusInternalServerError, LoginPage{AuthRequestID: id, FormAction: p.loginPath, Error: msgUsersFailed})
		return
	}
	if subject == "" || !slices.ContainsFunc(users, func(u User) bool { return u.Subject == subject }) {
		p.renderPage(w, r, http.StatusBadRequest, LoginPage{AuthRequestID: id, FormAction: p.loginPath, Users: users, Error: msgUnknownUser})
		return
	}
	if err := p.store.completeAuthRequest(id, subject); err != nil {
		// Lost a race with expiry or a second submission.
		p.renderPage(w, r, http.StatusBadRequest, LoginPage{FormAction: p.loginPath, Error: msgRequestGone})
		return
	}
	p.logger.InfoContext(ctx, "devidp: signed in", "subject", subject)
	callback := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(ctx, p.issuer), id)
	http.Redirect(w, r, callback, http.StatusSeeOther)
}

// pendingError says why the request cannot be completed, or "" if it can.
func (p *Provider) pendingError(ctx context.Context, id string) string {
	if id == "" {
		return msgRequestGone
	}
	req, err := p.store.AuthRequestByID(ctx, id)
	if err != nil {
		return msgRequestGone
	}
	if req.Done() {
		return msgRequestDone
	}
	return ""
}

// sortedUsers orders the picker by role so a developer looking for "a
// buyer" or "a supplier" finds them together. Users without a subject
// could never be signed in as, so they are left out.
func (p *Provider) sortedUsers(ctx context.Context) ([]User, error) {
	users, err := p.store.users(ctx)
	if err != nil {
		return nil, err
	}
	users = slices.DeleteFunc(slices.Clone(users), func(u User) bool { return u.Subject == "" })
	slices.SortStableFunc(users, func(a, b User) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Name, b.Name))
	})
	return users, nil
}

// renderPage fixes the status code itself so a custom RenderLogin cannot
// turn an error page into a 200 by accident.
func (p *Provider) renderPage(w http.ResponseWriter, r *http.Request, status int, page LoginPage) {
	// The page carries a live authorization request ID.
	w.Header().Set("Cache-Control", "no-store")
	sw := &statusWriter{ResponseWriter: w, status: status}
	err := p.render(sw, r, page)
	switch {
	case err != nil && !sw.wrote:
		p.logger.ErrorContext(r.Context(), "devidp: rendering sign-in page", "error", err)
		http.Error(w, "The sign-in page could not be shown.", http.StatusInternalServerError)
	case err != nil:
		p.logger.ErrorContext(r.Context(), "devidp: rendering sign-in page", "error", err)
	case !sw.wrote:
		sw.WriteHeader(status)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(int) {
	if !w.wrote {
		w.wrote = true
		w.ResponseWriter.WriteHeader(w.status)
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.WriteHeader(w.status)
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (p *Provider) loggedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loggedOutTemplate.Execute(w, nil)
}

func renderBuiltinLogin(w http.ResponseWriter, _ *http.Request, page LoginPage) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return loginTemplate.Execute(w, page)
}

const pageStyle = `<style>
body{font-family:Arial,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#212b32}
.banner{background:#ffeb3b;padding:.5rem 1rem;font-weight:bold}
.error{border-left:.5rem solid #d5281b;padding:.5rem 1rem;color:#d5281b}
ul{list-style:none;padding:0}li{margin:.5rem 0}
button{width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #768692;background:#fff;cursor:pointer}
button:hover{background:#e8edee}.meta{color:#4c6272;font-size:.9rem}
</style>`

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title>` + pageStyle + `</head>
<body>
<p class="banner">Development identity provider: not for production use</p>
<h1>Sign in as</h1>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
{{if .AuthRequestID}}<ul>
{{range .Users}}<li><form method="post" action="{{$.FormAction}}">
<input type="hidden" name="authRequestID" value="{{$.AuthRequestID}}">
<input type="hidden" name="subject" value="{{.Subject}}">
<button type="submit"><strong>{{.Name}}</strong> &middot; {{.Role}}<br>
<span class="meta">{{.Organisation}} &middot; {{.Email}} &middot; {{.Subject}}</span></button>
</form></li>
{{else}}{{if not $.Error}}<li>No users are set up.</li>{{end}}
{{end}}</ul>{{end}}
</body></html>`))

var loggedOutTemplate = template.Must(template.New("logged-out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title>` + pageStyle + `</head>
<body>
<p class="banner">Development identity provider: not for production use</p>
<h1>You have signed out</h1>
</body></html>`))
