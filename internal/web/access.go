package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/auth"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/orgs"
)

// loadViewer finds the live session named by the cookie and puts the person,
// their roles and the organisation they act for on the request.
func (s *Server) loadViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if wantsPath(c, "/static/", "/assets/", "/healthz", "/readyz", "/metrics", "/dev-idp/") {
			return next(c)
		}
		ck, err := c.Cookie(s.cookies.session)
		if err != nil || ck.Value == "" {
			return next(c)
		}
		ctx := c.Request().Context()
		sessionID := s.Sessions.ID(ck.Value)
		e, err := s.viewers.get(sessionID, s.authz.Version(), func() (*viewerEntry, error) {
			return s.readViewer(ctx, ck.Value)
		})
		if err == nil {
			var touched bool
			if touched, err = s.Sessions.Live(ctx, e.viewer.Session); touched || err != nil {
				s.viewers.forget(sessionID)
			}
		}
		if errors.Is(err, auth.ErrNoSession) {
			s.clearCookie(c, s.cookies.session)
			return next(c)
		}
		if err != nil {
			return err
		}
		// A copy, so that nothing a handler sets reaches other requests.
		v := *e.viewer
		c.Set(viewerKey, &v)
		return next(c)
	}
}

// readViewer reads what loadViewer needs of the session token names.
func (s *Server) readViewer(ctx context.Context, token string) (*viewerEntry, error) {
	sess, err := s.Sessions.Find(ctx, token)
	if err != nil {
		return nil, err
	}
	ms, err := s.Orgs.MembershipsOf(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	unread, err := s.Notify.UnreadCount(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	v := &Viewer{Session: sess, User: sess.User, Memberships: ms, Unread: unread}
	if sess.ActingOrgID != nil {
		for i := range ms {
			if ms[i].OrganisationID == *sess.ActingOrgID {
				v.ActingOrg = &ms[i].Organisation
				break
			}
		}
	}
	v.Nav = navigation(s.authz, v)
	return &viewerEntry{viewer: v}, nil
}

// require guards a route: the person must be signed in, acting for an
// organisation, and (when obj is set) allowed obj/act in that organisation's
// domain. A refusal is audited.
func (s *Server) require(obj, act string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := viewer(c)
			if v == nil {
				if c.Request().Method != http.MethodGet {
					return errForbidden
				}
				return c.Redirect(http.StatusSeeOther, "/sign-in?return_to="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			if obj == "" {
				return next(c)
			}
			if len(v.Memberships) == 0 {
				return c.Redirect(http.StatusSeeOther, "/no-access")
			}
			if v.ActingOrg == nil {
				return c.Redirect(http.StatusSeeOther, "/choose-organisation?return_to="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			if !s.authz.Allowed(v.User.ID, v.Domain(), obj, act) {
				s.auditDenied(c, obj+"."+act, "route", c.Path())
				return errForbidden
			}
			return next(c)
		}
	}
}

// checkOwned is the object-level check: may the viewer do act on obj for a
// record owned by org? The domain comes from the stored record, never from
// the request. Another organisation's record answers 404, so its existence
// is not revealed, and the attempt is audited.
// may reports whether the viewer may do act on obj for a record owned by
// org, without auditing: for deciding what a page offers, not for guarding.
func (s *Server) may(c echo.Context, org *orgs.Organisation, obj, act string) bool {
	v := viewer(c)
	return v != nil && s.authz.Allowed(v.User.ID, authz.Domain(org.Kind, org.ID), obj, act)
}

func (s *Server) checkOwned(c echo.Context, org *orgs.Organisation, obj, act, objectType, objectID string) error {
	v := viewer(c)
	if v != nil && s.authz.Allowed(v.User.ID, authz.Domain(org.Kind, org.ID), obj, act) {
		return nil
	}
	s.auditDenied(c, obj+"."+act, objectType, objectID)
	return errNotFound
}

func auditEvent(action, objectType, objectID string) audit.Event {
	return audit.Event{Action: action, ObjectType: objectType, ObjectID: objectID}
}

func (s *Server) auditDenied(c echo.Context, action, objectType, objectID string) {
	err := s.Audit.Record(c.Request().Context(), s.DB, actor(c), audit.Event{
		Action: action, ObjectType: objectType, ObjectID: objectID, Outcome: audit.Denied,
	})
	if err != nil {
		logger(c).Error("audit refused request", "err", err)
	}
}

func (s *Server) setCookie(c echo.Context, name, value string, maxAge time.Duration) {
	// #nosec G124 -- HttpOnly and SameSite are set; Secure follows PORTAL_BASE_URL and is always on in production
	c.SetCookie(&http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(c echo.Context, name string) {
	// #nosec G124 -- as setCookie: Secure follows PORTAL_BASE_URL and is always on in production
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode})
}

// flashes are the confirmation messages shown once after a redirect. The
// cookie carries only a key, so nothing a person controls is displayed.
var flashes = map[string]string{
	"organisation-created": "Organisation added",
	"organisation-saved":   "Organisation details saved",
	"member-added":         "Trust added to the consortium",
	"member-ended":         "Membership ended",
	"user-created":         "User added",
	"user-saved":           "User details saved",
	"user-disabled":        "User disabled and signed out everywhere",
	"user-enabled":         "User enabled",
	"role-granted":         "Role given",
	"role-revoked":         "Role removed",
	"org-chosen":           "You are now acting for this organisation",
	"document-uploaded":    "Document uploaded",
	"notifications-read":   "All notifications marked as read",
	"preferences-saved":    "Your choices have been saved",
	"job-retried":          "The job will run again shortly",
	"test-email-sent":      "Test message queued",
	"catalogue-created":    "Catalogue created",
	"section-added":        "Section added",
	"requirement-saved":    "Requirement saved",
	"requirement-deleted":  "Requirement removed",
	"catalogue-imported":   "Imported %d rows: %d added, %d updated, %d unchanged",
	"version-published":    "Version %d published",
	"framework-created":    "Framework created as a draft",
	"lot-added":            "Lot added",
	"requirements-copied":  "Requirements copied into the lot",
	"criteria-saved":       "Evaluation criteria saved",
	"criteria-linked":      "The requirements' criteria are saved",
	"framework-published":  "Framework published",
	"invitation-sent":      "Invitation sent",
	"invitation-accepted":  "Invitation accepted: you can now apply",
	"supplier-registered":  "Your organisation is registered and the invitation accepted",
	"answers-saved":        "Your answers have been saved",
	"documents-attached":   "Your choice of documents has been saved",
	"declarations-saved":   "Your declarations have been saved",
	"evaluators-saved":     "Evaluators saved",
	"applications-opened":  "Applications opened: evaluators can now score them",
	"key-turned":           "Your key is turned: the applications open when a second consortium lead turns theirs",
	"decisions-saved":      "Decisions saved",
	"standstill-started":   "Standstill started and award letters sent",
	"scores-saved":         "Your scores have been saved as a draft",
	"scores-submitted":     "Your scores have been submitted",
	"access-requested":     "Your request has been sent to the consortium's lead",
	"access-decided":       "Decision on the request for access recorded",
	"appointment-changed":  "Appointment changed and the supplier told",

	// Clarification questions.
	"question-asked":        "Your question has been sent. Its answer will appear on this page",
	"question-withdrawn":    "Question withdrawn",
	"answer-published":      "Answer shared with every supplier taking part",
	"answer-sent-privately": "Answer sent only to the supplier who asked",

	// Mini-competitions.
	"competition-created":        "Mini-competition created as a draft",
	"competition-saved":          "Details and timeline saved",
	"competition-buyer-added":    "Buying trust added",
	"competition-buyer-saved":    "Volumes and sites saved",
	"competition-buyer-removed":  "Buying trust removed, with its price schedule",
	"competition-reqs-copied":    "Requirements copied from the lot",
	"competition-req-added":      "Requirement added",
	"competition-price-added":    "Item added to the price schedule",
	"competition-price-removed":  "Item removed from the price schedule",
	"competition-panel-saved":    "Evaluation panel saved",
	"competition-document-added": "Document added to the tender pack",
	"competition-document-told":  "Document added to the tender pack and every invited supplier told",
	"competition-published":      "Competition published: every supplier appointed to the lot has been invited",
	"competition-dates-changed":  "Dates changed and every invited supplier told",
	"competition-reqs-changed":   "Requirements changed and every invited supplier told",
	"competition-cancelled":      "Competition cancelled and every invited supplier told",
	"competition-interested":     "Your interest has been registered: you can now bid",
	"competition-declined":       "You have declined the invitation. The buyer can see your reason",

	// Sealed bids.
	"prices-saved":   "Your prices have been saved",
	"bid-key-turned": "Your key is turned: the bids open when a second person turns theirs",
	"bids-opened":    "Bids opened: %d to evaluate, %d excluded",

	// Awards.
	"award-decided":    "Your board's decision has been recorded",
	"award-sent":       "Award letters sent to every bidder with their assessment summaries",
	"award-notice":     "Contract award notice published: the standstill has started",
	"award-challenged": "Challenge recorded: the award is paused until it is resolved",
	"award-resolved":   "Outcome of the challenge recorded",
	"award-confirmed":  "Award confirmed and the contracts made",

	// Contracts.
	"contract-saved":            "Contract details saved",
	"contract-extended":         "Extension recorded",
	"contract-terminated":       "Contract terminated",
	"contract-document-added":   "Document added to the contract",
	"contract-document-removed": "Document removed from the contract",

	// The exit tracker.
	"plan-saved":                "Exit plan saved",
	"national-contract-created": "National contract added",
	"national-contract-saved":   "National contract saved",
	"deployments-imported":      "Imported %d rows: %d new, %d updated, %d unchanged",
	"exit-rules-saved":          "Rating rules saved: every rating is now worked out with them",

	// Evaluation of mini-competitions.
	"evaluation-formula-saved":   "Price formula saved",
	"evaluation-tie-break-saved": "Tie-break rule saved",
	"evaluation-sections-saved":  "Sections saved for the panel member",
	"conflicts-declared":         "Your declaration of interests has been recorded",
	"moderation-saved":           "Moderation saved: the consensus marks and rationales are recorded",
	"award-recommended":          "Award recommended: each buying trust's board can now approve it",
}

func (s *Server) flash(c echo.Context, key string, counts ...int) {
	value := key
	for _, n := range counts {
		value += "." + strconv.Itoa(n)
	}
	s.setCookie(c, s.cookies.flash, value, time.Minute)
}

// takeFlash reads and clears the flash cookie. Its value is a message key
// followed by whole numbers, so only the portal's own words are shown.
func (s *Server) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(s.cookies.flash)
	if err != nil {
		return ""
	}
	s.clearCookie(c, s.cookies.flash)
	parts := strings.Split(ck.Value, ".")
	msg, ok := flashes[parts[0]]
	if !ok {
		return ""
	}
	args := make([]any, 0, len(parts)-1)
	for _, p := range parts[1:] {
		n, err := strconv.Atoi(p)
		if err != nil {
			return ""
		}
		args = append(args, n)
	}
	if strings.Count(msg, "%d") != len(args) {
		return ""
	}
	return fmt.Sprintf(msg, args...)
}
