package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// handler is a method expression such as (*Server).home.
type handler = func(*Server, echo.Context) error

func wrap(s *Server, h handler) echo.HandlerFunc {
	return func(c echo.Context) error { return h(s, c) }
}

// adders declare routes: pub for anyone, signedIn for anyone signed in
// (objectLevel when the handler checks the stored record), perm for a
// permission, upload for a streaming multipart upload needing one.
type adders struct {
	pub      func(method, path string, h handler)
	signedIn func(method, path string, objectLevel bool, h handler)
	perm     func(method, path, obj, act string, h handler)
	upload   func(path, obj, act string, h handler)
}

// addRoutes declares every page and action with the permission it needs, in
// one place (and the files it calls on), so the role-by-route test can walk
// them all.
func (s *Server) addRoutes() {
	pub := func(method, path string, h handler) {
		s.routes = append(s.routes, Route{Method: method, Path: path, Public: true, handler: wrap(s, h)})
	}
	signedIn := func(method, path string, objectLevel bool, h handler) {
		s.routes = append(s.routes, Route{Method: method, Path: path, ObjectLevel: objectLevel, handler: wrap(s, h)})
	}
	perm := func(method, path, obj, act string, h handler) {
		s.routes = append(s.routes, Route{Method: method, Path: path, Object: obj, Action: act, handler: wrap(s, h)})
	}
	upload := func(path, obj, act string, h handler) {
		s.routes = append(s.routes, Route{Method: http.MethodPost, Path: path, Object: obj, Action: act, Upload: true, handler: wrap(s, h)})
	}
	add := adders{pub: pub, signedIn: signedIn, perm: perm, upload: upload}
	get, post := http.MethodGet, http.MethodPost

	pub(get, "/", (*Server).home)
	pub(get, "/sign-in", (*Server).signIn)
	pub(get, "/sign-in/:provider", (*Server).signInStart)
	pub(get, "/auth/callback/:provider", (*Server).signInCallback)
	pub(get, "/signed-out", (*Server).signedOut)
	pub(post, "/auth/backchannel-logout/:provider", (*Server).backChannelLogout)

	signedIn(post, "/sign-out", false, (*Server).signOut)
	signedIn(get, "/no-access", false, (*Server).noAccess)
	signedIn(get, "/choose-organisation", false, (*Server).chooseOrganisation)
	signedIn(post, "/choose-organisation", false, (*Server).chooseOrganisationSave)
	signedIn(get, "/organisations/:id", true, (*Server).organisationPage)

	perm(get, "/admin", "administration", "read", (*Server).adminHome)
	perm(get, "/admin/organisations", "administration", "read", (*Server).adminOrganisations)
	perm(get, "/admin/organisations/new", "administration", "write", (*Server).adminOrganisationNew)
	perm(post, "/admin/organisations/new", "administration", "write", (*Server).adminOrganisationCheck)
	perm(post, "/admin/organisations", "administration", "write", (*Server).adminOrganisationCreate)
	perm(get, "/admin/organisations/:id", "administration", "read", (*Server).adminOrganisation)
	perm(get, "/admin/organisations/:id/edit", "administration", "write", (*Server).adminOrganisationEdit)
	perm(post, "/admin/organisations/:id/edit", "administration", "write", (*Server).adminOrganisationSave)
	perm(post, "/admin/organisations/:id/members", "administration", "write", (*Server).adminMemberAdd)
	perm(post, "/admin/organisations/:id/members/:member/end", "administration", "write", (*Server).adminMemberEnd)
	perm(get, "/admin/users", "administration", "read", (*Server).adminUsers)
	perm(get, "/admin/users/new", "administration", "write", (*Server).adminUserNew)
	perm(post, "/admin/users", "administration", "write", (*Server).adminUserCreate)
	perm(get, "/admin/users/:id", "administration", "read", (*Server).adminUser)
	perm(get, "/admin/users/:id/edit", "administration", "write", (*Server).adminUserEdit)
	perm(post, "/admin/users/:id/edit", "administration", "write", (*Server).adminUserSave)
	perm(post, "/admin/users/:id/disable", "administration", "write", (*Server).adminUserDisable)
	perm(post, "/admin/users/:id/enable", "administration", "write", (*Server).adminUserEnable)
	perm(post, "/admin/users/:id/roles", "administration", "write", (*Server).adminRoleGrant)
	perm(post, "/admin/users/:id/roles/:membership/revoke", "administration", "write", (*Server).adminRoleRevoke)
	perm(get, "/audit", "audit", "read", (*Server).auditPage)

	signedIn(get, "/notifications", false, (*Server).notificationsPage)
	signedIn(post, "/notifications/read-all", false, (*Server).notificationsReadAll)
	signedIn(get, "/notifications/preferences", false, (*Server).preferencesPage)
	signedIn(post, "/notifications/preferences", false, (*Server).preferencesSave)
	signedIn(get, "/notifications/:id", true, (*Server).notificationPage)
	perm(get, "/admin/jobs", "administration", "read", (*Server).adminJobs)
	perm(post, "/admin/jobs/:id/retry", "administration", "write", (*Server).adminJobRetry)
	perm(post, "/admin/users/:id/test-email", "administration", "write", (*Server).adminUserTestEmail)
	if !s.cfg.IsProduction() && s.cfg.SMTPURL == "" {
		perm(get, "/admin/outbox", "administration", "read", (*Server).adminOutbox)
	}

	perm(get, "/catalogues", "catalogue", "read", (*Server).cataloguesPage)
	perm(post, "/catalogues", "catalogue", "write", (*Server).catalogueCreate)
	signedIn(get, "/catalogues/:id", true, (*Server).cataloguePage)
	signedIn(post, "/catalogues/:id/sections", true, (*Server).catalogueSectionAdd)
	signedIn(get, "/catalogues/:id/requirements/new", true, (*Server).requirementForm)
	signedIn(get, "/catalogues/:id/requirements/:req/edit", true, (*Server).requirementForm)
	signedIn(post, "/catalogues/:id/requirements", true, (*Server).requirementSave)
	signedIn(post, "/catalogues/:id/requirements/:req/delete", true, (*Server).requirementDelete)
	s.routes = append(s.routes, Route{Method: post, Path: "/catalogues/:id/import", ObjectLevel: true, Upload: true, handler: wrap(s, (*Server).catalogueImport)})
	signedIn(get, "/catalogues/:id/export", true, (*Server).catalogueExport)
	signedIn(post, "/catalogues/:id/publish", true, (*Server).cataloguePublish)

	perm(get, "/frameworks", "framework", "read", (*Server).frameworksPage)
	perm(post, "/frameworks", "framework", "write", (*Server).frameworkCreate)
	signedIn(get, "/frameworks/:id", true, (*Server).frameworkPage)
	signedIn(post, "/frameworks/:id/lots", true, (*Server).frameworkLotAdd)
	signedIn(post, "/frameworks/:id/lots/:lot/requirements", true, (*Server).frameworkLotCopy)
	signedIn(post, "/frameworks/:id/lots/:lot/criteria", true, (*Server).frameworkLotCriteria)
	signedIn(post, "/frameworks/:id/criteria", true, (*Server).frameworkCriteria)
	signedIn(post, "/frameworks/:id/publish", true, (*Server).frameworkPublish)
	signedIn(post, "/frameworks/:id/invitations", true, (*Server).invitationInvite)

	// Supplier invitations: the emailed link works before sign-in; the
	// token in the path is the proof (see invitations.go).
	pub(get, "/invitations/:token", (*Server).invitationPage)
	signedIn(post, "/invitations/:token/accept", true, (*Server).invitationAccept)
	signedIn(get, "/invitations/:token/register", true, (*Server).invitationRegisterForm)
	signedIn(post, "/invitations/:token/register", true, (*Server).invitationRegisterCheck)
	signedIn(post, "/invitations/:token/register/confirm", true, (*Server).invitationRegister)

	// Supplier applications, one per lot, sealed until the deadline.
	perm(get, "/applications", "application", "read", (*Server).applicationsPage)
	signedIn(get, "/frameworks/:id/apply", true, (*Server).frameworkApply)
	app := "/frameworks/:id/lots/:lot/application"
	signedIn(get, app, true, (*Server).applicationTasks)
	signedIn(get, app+"/section/:section", true, (*Server).applicationSection)
	signedIn(post, app+"/section/:section", true, (*Server).applicationSectionSave)
	signedIn(get, app+"/documents", true, (*Server).applicationDocuments)
	signedIn(post, app+"/documents", true, (*Server).applicationDocumentsSave)
	signedIn(get, app+"/declarations", true, (*Server).applicationDeclarations)
	signedIn(post, app+"/declarations", true, (*Server).applicationDeclarationsSave)
	signedIn(get, app+"/check", true, (*Server).applicationCheck)
	signedIn(post, app+"/submit", true, (*Server).applicationSubmit)
	signedIn(post, app+"/withdraw", true, (*Server).applicationWithdraw)
	signedIn(get, app+"/receipts/:number", true, (*Server).applicationReceipt)

	// Evaluation of applications, appointment, standstill and the
	// framework agreement record.
	signedIn(get, "/frameworks/:id/evaluation", true, (*Server).frameworkEvaluation)
	signedIn(post, "/frameworks/:id/evaluators", true, (*Server).evaluatorsAssign)
	signedIn(post, "/frameworks/:id/open", true, (*Server).applicationsOpen)
	signedIn(post, "/frameworks/:id/decisions", true, (*Server).decisionsSave)
	signedIn(post, "/frameworks/:id/standstill", true, (*Server).standstillStart)
	signedIn(get, "/frameworks/:id/agreement", true, (*Server).frameworkAgreement)
	signedIn(post, "/frameworks/:id/appointments/:app", true, (*Server).appointmentChange)
	perm(get, "/buy", "calloff", "read", (*Server).buyPage)
	signedIn(post, "/frameworks/:id/access-request", true, (*Server).accessRequest)
	signedIn(post, "/frameworks/:id/buyers/:org/decide", true, (*Server).accessDecide)
	perm(get, "/evaluations", "evaluation", "score", (*Server).evaluationsPage)
	signedIn(get, "/frameworks/:id/evaluate", true, (*Server).evaluatePage)
	signedIn(get, "/frameworks/:id/applications/:app/score", true, (*Server).scorePage)
	signedIn(post, "/frameworks/:id/applications/:app/score", true, (*Server).scoreSave)
	signedIn(get, "/frameworks/:id/applications/:app/documents/:doc", true, (*Server).applicationDocument)

	perm(get, "/documents", "documents", "read", (*Server).documentsPage)
	upload("/documents", "documents", "write", (*Server).documentUpload)
	signedIn(get, "/documents/:id", true, (*Server).documentPage)
	signedIn(get, "/documents/:id/download", true, (*Server).documentDownload)

	// Clarification questions and the public list of open frameworks.
	signedIn(get, "/frameworks/:id/questions", true, (*Server).questionsPage)
	signedIn(post, "/frameworks/:id/questions", true, (*Server).questionAsk)
	signedIn(post, "/frameworks/:id/questions/:question/withdraw", true, (*Server).questionWithdraw)
	signedIn(get, "/frameworks/:id/clarifications", true, (*Server).clarificationsPage)
	signedIn(post, "/frameworks/:id/clarifications/:question/answer", true, (*Server).clarificationAnswer)
	pub(get, "/open-frameworks", (*Server).openFrameworksPage)

	// Mini-competitions: set-up, invitations, changes and cancellation.
	perm(get, "/competitions", "competition", "read", (*Server).competitionsPage)
	perm(get, "/competitions/new", "competition", "write", (*Server).competitionNew)
	perm(post, "/competitions", "competition", "write", (*Server).competitionCreate)
	cmp := "/competitions/:id"
	signedIn(get, cmp, true, (*Server).competitionPage)
	signedIn(post, cmp+"/details", true, (*Server).competitionDetailsSave)
	signedIn(post, cmp+"/buyers", true, (*Server).competitionBuyerAdd)
	signedIn(post, cmp+"/buyers/:org", true, (*Server).competitionBuyerSave)
	signedIn(post, cmp+"/buyers/:org/remove", true, (*Server).competitionBuyerRemove)
	signedIn(post, cmp+"/buyers/:org/prices", true, (*Server).competitionPriceAdd)
	signedIn(post, cmp+"/prices/:item/remove", true, (*Server).competitionPriceRemove)
	signedIn(post, cmp+"/requirements/copy", true, (*Server).competitionRequirementsCopy)
	signedIn(get, cmp+"/requirements/new", true, (*Server).competitionRequirementNew)
	signedIn(post, cmp+"/requirements", true, (*Server).competitionRequirementAdd)
	signedIn(post, cmp+"/requirements/:req/edit", true, (*Server).competitionRequirementSave)
	signedIn(post, cmp+"/requirements/:req/remove", true, (*Server).competitionRequirementRemove)
	signedIn(post, cmp+"/panel", true, (*Server).competitionPanelSave)
	signedIn(post, cmp+"/publish", true, (*Server).competitionPublish)
	signedIn(get, cmp+"/documents/new", true, (*Server).competitionDocumentPage)
	signedIn(post, cmp+"/documents", true, (*Server).competitionDocumentAdd)
	signedIn(get, cmp+"/documents/:doc", true, (*Server).competitionDocument)
	signedIn(get, cmp+"/dates", true, (*Server).competitionDatesPage)
	signedIn(post, cmp+"/dates", true, (*Server).competitionDatesSave)
	signedIn(get, cmp+"/requirements/change", true, (*Server).competitionChangePage)
	signedIn(post, cmp+"/requirements/change", true, (*Server).competitionRequirementsChange)
	signedIn(get, cmp+"/cancel", true, (*Server).competitionCancelPage)
	signedIn(post, cmp+"/cancel", true, (*Server).competitionCancel)
	signedIn(get, cmp+"/clarifications", true, (*Server).competitionClarificationsPage)
	signedIn(post, cmp+"/clarifications/:question/answer", true, (*Server).competitionClarificationAnswer)
	// The invited supplier's side.
	signedIn(get, cmp+"/bid", true, (*Server).competitionBidPage)
	signedIn(post, cmp+"/interest", true, (*Server).competitionInterest)
	signedIn(post, cmp+"/decline", true, (*Server).competitionDecline)
	signedIn(get, cmp+"/questions", true, (*Server).competitionQuestionsPage)
	signedIn(post, cmp+"/questions", true, (*Server).competitionQuestionAsk)
	signedIn(post, cmp+"/questions/:question/withdraw", true, (*Server).competitionQuestionWithdraw)

	// Sealed bids: the supplier's tasks and receipts, the count, two-key opening.
	bid := cmp + "/bid"
	signedIn(get, bid+"/tasks", true, (*Server).bidTasks)
	signedIn(get, bid+"/section/:section", true, (*Server).bidSection)
	signedIn(post, bid+"/section/:section", true, (*Server).bidSectionSave)
	signedIn(get, bid+"/prices/:org", true, (*Server).bidPrices)
	signedIn(post, bid+"/prices/:org", true, (*Server).bidPricesSave)
	signedIn(get, bid+"/documents", true, (*Server).bidDocuments)
	signedIn(post, bid+"/documents", true, (*Server).bidDocumentsSave)
	signedIn(get, bid+"/declarations", true, (*Server).bidDeclarations)
	signedIn(post, bid+"/declarations", true, (*Server).bidDeclarationsSave)
	signedIn(get, bid+"/check", true, (*Server).bidCheck)
	signedIn(post, bid+"/submit", true, (*Server).bidSubmit)
	signedIn(post, bid+"/withdraw", true, (*Server).bidWithdraw)
	signedIn(post, bid+"/reconfirm", true, (*Server).bidReconfirm)
	signedIn(get, bid+"/receipts/:number", true, (*Server).bidReceipt)
	signedIn(get, cmp+"/bids", true, (*Server).competitionBids)
	signedIn(post, cmp+"/open", true, (*Server).competitionOpen)

	// Evaluation: declarations, marks, moderation, results, the
	// recommendation and its report.
	ev := cmp + "/evaluation"
	signedIn(get, ev, true, (*Server).competitionEvaluation)
	signedIn(post, ev+"/price-formula", true, (*Server).evaluationPriceFormula)
	signedIn(post, ev+"/tie-break", true, (*Server).evaluationTieBreak)
	signedIn(post, ev+"/panel/:user", true, (*Server).evaluationSections)
	signedIn(get, ev+"/declaration", true, (*Server).evaluationDeclarationPage)
	signedIn(post, ev+"/declaration", true, (*Server).evaluationDeclare)
	signedIn(get, ev+"/bids/:bid", true, (*Server).evaluationScorePage)
	signedIn(post, ev+"/bids/:bid", true, (*Server).evaluationScoreSave)
	signedIn(get, ev+"/bids/:bid/moderate", true, (*Server).evaluationModeratePage)
	signedIn(post, ev+"/bids/:bid/moderate", true, (*Server).evaluationModerate)
	signedIn(post, ev+"/recommendation", true, (*Server).evaluationRecommend)
	signedIn(get, ev+"/report", true, (*Server).evaluationReport)

	// The award: board approval, the decision, standstill, challenges and
	// confirmation.
	aw := cmp + "/award"
	signedIn(get, aw, true, (*Server).awardPage)
	signedIn(post, aw+"/decision", true, (*Server).awardDecide)
	signedIn(post, aw+"/send", true, (*Server).awardSend)
	signedIn(post, aw+"/notice", true, (*Server).awardNotice)
	signedIn(post, aw+"/challenges", true, (*Server).awardChallenge)
	signedIn(post, aw+"/challenges/:challenge/resolve", true, (*Server).awardResolve)
	signedIn(post, aw+"/confirm", true, (*Server).awardConfirm)

	// Contracts made from confirmed awards.
	perm(get, "/contracts", "contract", "read", (*Server).contractsPage)
	signedIn(get, "/contracts/:id", true, (*Server).contractPage)
	signedIn(post, "/contracts/:id", true, (*Server).contractSave)
	signedIn(post, "/contracts/:id/extend", true, (*Server).contractExtend)
	signedIn(post, "/contracts/:id/terminate", true, (*Server).contractTerminate)
	signedIn(post, "/contracts/:id/documents", true, (*Server).contractAttach)
	signedIn(post, "/contracts/:id/documents/:doc/remove", true, (*Server).contractDetach)

	// The national contract exit tracker and its dashboards.
	s.exitRoutes(add)
	// The contract register.
	s.registerRoutes(add)
	// Public pages and open data (OCDS), without signing in.
	s.publicRoutes(add)
	s.openDataRoutes(add)
}
