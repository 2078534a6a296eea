package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/award"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/notify"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// TestTwoInstancesBehaveAsOne runs two portals on one PostgreSQL database,
// as instances behind a load balancer do: each its own HTTP server on its
// own loopback port, its own River client and its own casbin authorizer
// watching for role changes, sharing only the database and the secrets
// every instance is given (PORTAL_SESSION_KEY and PORTAL_MASTER_KEY). What
// one instance does, the other must see, and what must happen once (an
// email, a state transition, the opening of the bids) happens once however
// many instances are running. SQLite is one process's database, so this
// runs on PostgreSQL only.
func TestTwoInstancesBehaveAsOne(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("two instances share a PostgreSQL database: set " + storetest.EnvPostgres)
	}
	t.Run("sessions work on every instance", testSessionsOnEveryInstance)
	t.Run("a role revoked on one instance is refused on the other", testRoleChangesReachEveryInstance)
	t.Run("a user disabled on one instance is signed out on the other", testDisabledUserSignedOutEverywhere)
	t.Run("emails are sent exactly once", testEmailsSentOnce)
	t.Run("periodic jobs are scheduled by one leader", testPeriodicJobsScheduledOnce)
	t.Run("two openings never run twice", testConcurrentOpenings)
	t.Run("two application openings never run twice", testConcurrentApplicationOpenings)
	t.Run("two deadline handlers record one transition", testConcurrentTransitions)
}

// The secrets every instance of one portal is configured with.
var (
	instanceSessionKey = bytes.Repeat([]byte{0x3a}, 32)
	instanceMasterKey  = bytes.Repeat([]byte{0x7e}, 32)
)

// sameSecrets gives an instance the session and master keys all instances
// share: without them a session cookie made by one would mean nothing to
// another, and bids sealed by one could not be opened by another.
func sameSecrets(c *config.Config, _ *app.Options) {
	c.SessionKey, c.MasterKey = instanceSessionKey, instanceMasterKey
}

// twoInstances starts instance A on a fresh PostgreSQL database and
// instance B on the same one, with the same secrets and clock time.
func twoInstances(t *testing.T) (a, b *apptest.Harness) {
	t.Helper()
	a = apptest.New(t, store.Postgres, sameSecrets)
	b = apptest.NewOn(t, store.Postgres, a.DSN, a.Clock.Now(), sameSecrets)
	return a, b
}

// onOther is a browser for instance h sharing from's cookie jar: the same
// person's browser, its requests routed to the other instance.
func onOther(t *testing.T, h *apptest.Harness, from *apptest.Browser) *apptest.Browser {
	t.Helper()
	b := h.Browser(t)
	b.Client.Jar = from.Client.Jar
	return b
}

// setClocks moves every instance's clock to now, as the one real clock
// moves for all of them.
func setClocks(now time.Time, hs ...*apptest.Harness) {
	for _, h := range hs {
		h.Clock.Set(now)
	}
}

// testSessionsOnEveryInstance: a person signs in through instance A; the
// same session cookie opens signed-in pages on instance B and a form posted
// there with the CSRF token from a page of A is accepted (and one without
// is refused). Signing out on B ends the session on A.
func testSessionsOnEveryInstance(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	onA := a.Browser(t)
	if r := onA.SignInAs("demo-trust-lead"); !signedIn(r) {
		t.Fatalf("signing in on A ended at status %d, not signed in", r.Status)
	}

	// Cookies belong to a host, not a port: the jar that holds A's
	// session cookie sends it to B as well.
	bURL, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	sent := false
	for _, c := range onA.Client.Jar.Cookies(bURL) {
		sent = sent || (c.Name == "portal_session" && c.Value != "")
	}
	if !sent {
		t.Fatalf("the browser would not send A's session cookie to B (%s)", b.URL)
	}
	onB := onOther(t, b, onA)
	if r := onB.Get("/"); r.Status != http.StatusOK || !signedIn(r) || !strings.Contains(r.Body, "Aisha Khan") {
		t.Fatalf("A's session on B: status %d, signed in %v; want the home page naming Aisha Khan", r.Status, signedIn(r))
	}

	// A state-changing form on B: marking notifications read.
	aisha := a.UserID(t, "demo-trust-lead")
	if err := a.App.Notify.SendTest(ctx, audit.System, aisha); err != nil {
		t.Fatal(err)
	}
	unread := func() int64 {
		n, err := b.App.Notify.UnreadCount(ctx, aisha)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if unread() == 0 {
		t.Fatal("no unread notification to mark read")
	}
	if r := onB.Post("/notifications/read-all", url.Values{}); r.Status != http.StatusForbidden {
		t.Fatalf("a form posted to B without a CSRF token: status %d, want 403", r.Status)
	}
	if n := unread(); n == 0 {
		t.Fatal("the form without a CSRF token changed something")
	}
	token := onA.CSRF("/notifications")
	if r := onB.Post("/notifications/read-all", url.Values{"_csrf": {token}}); r.Status != http.StatusSeeOther || r.Location != "/notifications" {
		t.Fatalf("a form from A's page posted to B: status %d to %q, want 303 to /notifications", r.Status, r.Location)
	}
	if n := unread(); n != 0 {
		t.Fatalf("%d notifications still unread after marking them read on B", n)
	}

	// Signing out on B ends the session everywhere.
	if r := onB.PostForm("/", "/sign-out", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("signing out on B: status %d", r.Status)
	}
	if r := onA.Get("/"); signedIn(r) {
		t.Fatal("still signed in on A after signing out on B")
	}
	if r := onA.Get("/notifications"); r.Status == http.StatusOK {
		t.Fatalf("A still shows the notifications page (status %d) after signing out on B", r.Status)
	}
	var sessions int64
	if err := a.App.DB.Table("sessions").Where("user_id = ?", aisha).Count(&sessions).Error; err != nil || sessions != 0 {
		t.Fatalf("%d sessions left after signing out (err %v)", sessions, err)
	}
	if n := countAudit(a, "auth.sign_out", audit.Success, aisha); n != 1 {
		t.Fatalf("signing out audited %d times, want 1", n)
	}
}

// testRoleChangesReachEveryInstance: a role granted through instance A is
// honoured by instance B, and the role revoked through A's administration
// pages is refused by B, each within 2 seconds, for a session that stays
// signed in throughout.
func testRoleChangesReachEveryInstance(t *testing.T) {
	const limit = 2 * time.Second
	const leadsPage = "/competitions/new" // competition write: trust leads only
	ctx := context.Background()
	a, b := twoInstances(t)
	rj7 := orgID(t, a, "RJ7")
	ben := a.UserID(t, "demo-evaluator")
	onA := a.Browser(t)
	onA.SignInAs("demo-evaluator")
	onB := onOther(t, b, onA)
	if r := onB.Get(leadsPage); r.Status != http.StatusForbidden || !signedIn(r) {
		t.Fatalf("an evaluator on B: status %d, signed in %v; want 403 before any grant", r.Status, signedIn(r))
	}

	m, err := a.App.Orgs.Grant(ctx, audit.System, ben, rj7, string(authz.TrustLead))
	if err != nil {
		t.Fatal(err)
	}
	granted := time.Now()
	waitFor(t, limit, "B to honour the role granted on A", func() bool { return onB.Get(leadsPage).Status == http.StatusOK })
	t.Logf("granted role honoured on B %v after the grant on A", time.Since(granted).Round(time.Millisecond))

	admin := a.Browser(t)
	admin.SignInAs("demo-platform-admin")
	page := "/admin/users/" + ben
	if r := admin.PostForm(page, page+"/roles/"+m.ID+"/revoke", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoking through A's administration pages: status %d", r.Status)
	}
	if r := onA.Get(leadsPage); r.Status != http.StatusForbidden {
		t.Fatalf("the revoked role on A itself: status %d, want 403", r.Status)
	}
	denied := countAudit(b, "competition.write", audit.Denied, "")
	revoked := time.Now()
	waitFor(t, limit, "B to refuse the role revoked on A", func() bool { return onB.Get(leadsPage).Status == http.StatusForbidden })
	t.Logf("revoked role refused on B %v after the revocation on A", time.Since(revoked).Round(time.Millisecond))
	r := onB.Get(leadsPage)
	if r.Status != http.StatusForbidden || !signedIn(r) {
		t.Fatalf("the revoked role on B: status %d, signed in %v; want 403 to a signed-in person", r.Status, signedIn(r))
	}
	if n := countAudit(b, "competition.write", audit.Denied, ""); n <= denied {
		t.Fatalf("B's refusals audited %d times, %d before", n, denied)
	}
	if r := onB.Get("/competitions"); r.Status != http.StatusOK {
		t.Fatalf("the evaluator role Ben keeps, on B: status %d", r.Status)
	}
}

// testDisabledUserSignedOutEverywhere: a person browsing on both instances,
// each of which remembers their session, is disabled through A's
// administration pages. A refuses them at once and B within 2 seconds; the
// sessions are gone from the database, and signing in again is refused.
func testDisabledUserSignedOutEverywhere(t *testing.T) {
	const limit = 2 * time.Second
	const page = "/competitions"
	a, b := twoInstances(t)
	ben := a.UserID(t, "demo-evaluator")
	onA := a.Browser(t)
	onA.SignInAs("demo-evaluator")
	onB := onOther(t, b, onA)
	// Two requests on each: the second is answered from the viewer memory.
	for i := 0; i < 2; i++ {
		if r := onA.Get(page); r.Status != http.StatusOK || !signedIn(r) {
			t.Fatalf("before disabling, on A: status %d, signed in %v", r.Status, signedIn(r))
		}
		if r := onB.Get(page); r.Status != http.StatusOK || !signedIn(r) {
			t.Fatalf("before disabling, on B: status %d, signed in %v", r.Status, signedIn(r))
		}
	}

	admin := a.Browser(t)
	admin.SignInAs("demo-platform-admin")
	userPage := "/admin/users/" + ben
	if r := admin.PostForm(userPage, userPage+"/disable", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("disabling through A's administration pages: status %d", r.Status)
	}
	disabled := time.Now()
	if r := onA.Get(page); signedIn(r) {
		t.Fatalf("the disabled user on A: status %d, still signed in", r.Status)
	}
	waitFor(t, limit, "B to sign out the user disabled on A", func() bool { return !signedIn(onB.Get(page)) })
	t.Logf("disabled user signed out on B %v after disabling on A", time.Since(disabled).Round(time.Millisecond))
	var sessions int64
	if err := b.App.DB.Raw("SELECT count(*) FROM sessions WHERE user_id = ?", ben).Scan(&sessions).Error; err != nil {
		t.Fatal(err)
	}
	if sessions != 0 {
		t.Fatalf("%d sessions of the disabled user remain", sessions)
	}
	// Each test instance has its own development provider (its own issuer),
	// so signing in again is tried through A, whose provider issued Ben's.
	if r, err := a.Browser(t).TrySignInAs("demo-evaluator"); err == nil && signedIn(r) {
		t.Fatal("the disabled user signed in again")
	}
}

// testEmailsSentOnce: twenty notifications are made, half through each
// instance's notifier, while both instances' workers poll the one queue.
// Every email reaches the development outbox exactly once, and every email
// job was worked once, by one worker, at its first attempt.
func testEmailsSentOnce(t *testing.T) {
	const n = 20
	ctx := context.Background()
	a, b := twoInstances(t)
	users := []string{a.UserID(t, "demo-trust-lead"), a.UserID(t, "demo-evaluator"), a.UserID(t, "demo-supplier")}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		h := []*apptest.Harness{a, b}[i%2]
		wg.Go(func() { errs[i] = h.App.Notify.SendTest(ctx, audit.System, users[i%len(users)]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("notification %d: %v", i, err)
		}
	}
	var ids []string
	if err := a.App.DB.Model(&notify.Notification{}).Where("kind = ?", notify.KindTestMessage).Pluck("id", &ids).Error; err != nil || len(ids) != n {
		t.Fatalf("%d test notifications recorded (err %v), want %d", len(ids), err, n)
	}

	waitFor(t, 30*time.Second, "every email to be sent and its job completed", func() bool {
		var sent, open int64
		a.App.DB.Model(&notify.Notification{}).Where("id IN ? AND emailed_at IS NOT NULL", ids).Count(&sent)
		a.App.DB.Table("river_job").Where("kind = ? AND state NOT IN ?", notify.EmailArgs{}.Kind(), []string{"completed", "cancelled", "discarded"}).Count(&open)
		return sent == n && open == 0
	})

	messageIDs := make([]string, len(ids))
	for i, id := range ids {
		messageIDs[i] = notify.MessageID(id)
	}
	var rows []struct {
		MessageID string
		N         int
	}
	if err := a.App.DB.Table("dev_outbox").Select("message_id, count(*) AS n").Where("message_id IN ?", messageIDs).
		Group("message_id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	copies := map[string]int{}
	for _, r := range rows {
		copies[r.MessageID] = r.N
	}
	for _, id := range messageIDs {
		if copies[id] != 1 {
			t.Errorf("email %s reached the outbox %d times, want once", id, copies[id])
		}
	}

	var jobs []struct {
		State     string
		Attempt   int
		Workers   int
		WorkedBy  string
		Arguments string
	}
	if err := a.App.DB.Raw(`SELECT state, attempt, coalesce(array_length(attempted_by, 1), 0) AS workers,
		coalesce(attempted_by[1], '') AS worked_by, args::text AS arguments FROM river_job WHERE kind = ?`, notify.EmailArgs{}.Kind()).
		Scan(&jobs).Error; err != nil {
		t.Fatal(err)
	}
	if len(jobs) != n {
		t.Fatalf("%d email jobs in the queue, want %d (one per notification)", len(jobs), n)
	}
	perWorker := map[string]int{}
	perNotification := map[string]int{}
	for _, j := range jobs {
		var args notify.EmailArgs
		if err := json.Unmarshal([]byte(j.Arguments), &args); err != nil {
			t.Fatal(err)
		}
		perNotification[args.NotificationID]++
		perWorker[j.WorkedBy]++
		if j.State != "completed" || j.Attempt != 1 || j.Workers != 1 {
			t.Errorf("email job for %s: %s after %d attempts by %d workers; want completed at the first attempt by one worker",
				args.NotificationID, j.State, j.Attempt, j.Workers)
		}
	}
	for _, id := range ids {
		if perNotification[id] != 1 {
			t.Errorf("notification %s has %d email jobs, want 1", id, perNotification[id])
		}
	}
	t.Logf("%d emails sent once each; jobs worked per River client: %v", n, perWorker)
}

// periodicKinds are the kinds of the periodic jobs every instance
// configures (app.New).
var periodicKinds = []string{
	framework.TransitionsArgs{}.Kind(), award.RemindersArgs{}.Kind(), contracts.ExpiryArgs{}.Kind(), exit.SnapshotArgs{}.Kind(),
}

// riverLeader is the ID of the River client currently elected leader of
// the schema h runs on, or "".
func riverLeader(t *testing.T, h *apptest.Harness) string {
	t.Helper()
	var id string
	if err := h.App.DB.Raw("SELECT coalesce(max(leader_id), '') FROM river_leader").Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// periodicJobCounts is how many jobs of each periodic kind were ever
// enqueued.
func periodicJobCounts(t *testing.T, h *apptest.Harness) map[string]int {
	t.Helper()
	var rows []struct {
		Kind string
		N    int
	}
	if err := h.App.DB.Table("river_job").Select("kind, count(*) AS n").Where("kind IN ?", periodicKinds).Group("kind").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Kind] = r.N
	}
	return out
}

// wantPeriodicJobs checks every periodic kind was enqueued want times.
func wantPeriodicJobs(t *testing.T, h *apptest.Harness, want int, when string) {
	t.Helper()
	got := periodicJobCounts(t, h)
	for _, k := range periodicKinds {
		if got[k] != want {
			t.Errorf("%s: %s enqueued %d times, want %d", when, k, got[k], want)
		}
	}
}

// frameworkStates are the framework.state audit entries of a framework,
// each as its "to" state, oldest first.
func frameworkStates(t *testing.T, h *apptest.Harness, frameworkID string) []string {
	t.Helper()
	var details []string
	if err := h.App.DB.Model(&audit.Entry{}).Where("action = ? AND object_id = ?", "framework.state", frameworkID).
		Order("seq").Pluck("detail", &details).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(details))
	for i, d := range details {
		var v struct{ To string }
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			t.Fatalf("framework.state detail %q: %v", d, err)
		}
		out[i] = v.To
	}
	return out
}

// wantLeadsToldOnce checks each of the consortium's demo leads was told
// once that the framework's applications closed.
func wantLeadsToldOnce(t *testing.T, h *apptest.Harness) {
	t.Helper()
	for _, subject := range []string{"demo-consortium-lead", "demo-consortium-lead-2"} {
		var n int64
		if err := h.App.DB.Model(&notify.Notification{}).Where("user_id = ? AND kind = ? AND body_text LIKE ?",
			h.UserID(t, subject), notify.KindFrameworkUpdate, "%"+framework.UpdatePhrase(framework.StateEvaluation)+"%").
			Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s was told %d times that evaluation started, want once", subject, n)
		}
	}
}

// testPeriodicJobsScheduledOnce: both instances configure the same
// periodic jobs, and River's one elected leader alone enqueues them. A is
// started alone and becomes leader; once B has joined, each periodic job
// has still been enqueued once (A's run at start). The clocks then pass a
// framework's application deadline and A stops working jobs, as in a
// rolling restart: B is elected, its scheduler's run at start records the
// framework's move to evaluation once (one audit entry, each lead told
// once), and each periodic job has been enqueued exactly once per leader.
func testPeriodicJobsScheduledOnce(t *testing.T) {
	ctx := context.Background()
	a := apptest.New(t, store.Postgres, sameSecrets)
	var leaderA string
	waitFor(t, 10*time.Second, "A to be elected leader", func() bool { leaderA = riverLeader(t, a); return leaderA != "" })
	waitFor(t, 10*time.Second, "A's scheduler to enqueue the periodic jobs", func() bool { return len(periodicJobCounts(t, a)) == len(periodicKinds) })
	b := apptest.NewOn(t, store.Postgres, a.DSN, a.Clock.Now(), sameSecrets)

	deadline := apptest.Start.AddDate(0, 0, 8)
	fw, _ := openLot(t, a, deadline, 3)
	if got := riverLeader(t, a); got != leaderA {
		t.Fatalf("leader %q once B joined, want A (%q)", got, leaderA)
	}
	wantPeriodicJobs(t, a, 1, "with both instances running")

	setClocks(deadline.Add(time.Minute), a, b)
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.App.Jobs.Stop(stop); err != nil {
		t.Fatal(err)
	}
	var leaderB string
	waitFor(t, 15*time.Second, "B to be elected once A stopped", func() bool {
		leaderB = riverLeader(t, b)
		return leaderB != "" && leaderB != leaderA
	})
	waitFor(t, 15*time.Second, "B's scheduler to record the framework's transition", func() bool {
		var open int64
		b.App.DB.Table("river_job").Where("kind IN ? AND state NOT IN ?", periodicKinds, []string{"completed", "cancelled", "discarded"}).Count(&open)
		return open == 0 && len(frameworkStates(t, b, fw.ID)) > 0
	})
	if got := frameworkStates(t, b, fw.ID); len(got) != 1 || got[0] != framework.StateEvaluation {
		t.Fatalf("framework.state recorded as %v, want [%s] once", got, framework.StateEvaluation)
	}
	wantLeadsToldOnce(t, b)
	wantPeriodicJobs(t, b, 2, "after one change of leader")
	t.Logf("leaders: %s, then %s", leaderA, leaderB)
}

// rawPost posts form to u with client without failing the test, for use
// from several goroutines at once.
func rawPost(client *http.Client, u string, form url.Values) (int, string, error) {
	resp, err := client.PostForm(u, form)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// testConcurrentOpenings: a competition's first key is turned, then two
// keyholders turn the second at the same moment, one through each
// instance's pages. The bids are opened once: one request opens them, the
// other is told they have already been opened (409, not a server error),
// the box is decrypted once and the opening recorded and audited once.
func testConcurrentOpenings(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	_, lot := liveFramework(t, a)
	rj7 := orgID(t, a, "RJ7")
	aisha := audit.Actor{UserID: a.UserID(t, "demo-trust-lead"), OrgID: rj7}
	ben := a.UserID(t, "demo-evaluator")
	eve := a.AddPerson(t, "demo-evaluator-eve", "Eve Okafor", authz.Evaluator, rj7)
	comp, _ := biddingCompetition(t, a, aisha, lot.ID, ben, eve.UserID)
	bidAndOpen(t, a, comp, map[string]int64{"demo-supplier": 10, "demo-supplier-2": 12}, aisha)
	setClocks(a.Clock.Now(), b)

	// Everyone signs in through A's provider (each instance has its own in
	// tests); Eve's browser is then routed to B.
	benOnA := a.Browser(t)
	benOnA.SignInAs("demo-evaluator")
	eveOnA := a.Browser(t)
	eveOnA.SignInAs("demo-evaluator-eve")
	eveOnB := onOther(t, b, eveOnA)
	page, open := competition.CompetitionPath(comp.ID)+"/bids", competition.CompetitionPath(comp.ID)+"/open"
	type attempt struct {
		who    string
		client *http.Client
		url    string
		form   url.Values
		status int
		body   string
		err    error
	}
	attempts := []*attempt{
		{who: "Ben on A", client: benOnA.Client, url: a.URL + open, form: url.Values{"_csrf": {benOnA.CSRF(page)}}},
		{who: "Eve on B", client: eveOnB.Client, url: b.URL + open, form: url.Values{"_csrf": {eveOnB.CSRF(page)}}},
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, at := range attempts {
		wg.Go(func() {
			<-start
			at.status, at.body, at.err = rawPost(at.client, at.url, at.form)
		})
	}
	close(start)
	wg.Wait()

	opened, refused := 0, 0
	for _, at := range attempts {
		switch {
		case at.err != nil:
			t.Fatalf("%s: %v", at.who, at.err)
		case at.status == http.StatusSeeOther:
			opened++
		case at.status == http.StatusConflict && strings.Contains(at.body, "already been opened"):
			refused++
		default:
			t.Errorf("%s turning the second key: status %d; want 303 (opened) or 409 (already opened)\n%s", at.who, at.status, errorSummary(at.body))
		}
	}
	if opened != 1 || refused != 1 {
		t.Fatalf("%d openings and %d told the bids were already open; want one of each", opened, refused)
	}
	box := competition.BidBox(comp)
	if n := countAudit(a, "sealed.open", audit.Success, box.Type+":"+box.ID); n != 1 {
		t.Errorf("the bids were decrypted %d times, want once", n)
	}
	if n := countAudit(a, "competition.bids.open", audit.Success, comp.ID); n != 1 {
		t.Errorf("the opening audited %d times, want once", n)
	}
	bids, err := b.App.Competition.OpenedBids(ctx, aisha, comp.ID)
	if err != nil || len(bids) != 2 {
		t.Fatalf("B lists %d opened bids (err %v), want 2", len(bids), err)
	}
	var recorded int64
	a.App.DB.Model(&competition.Bid{}).Where("competition_id = ?", comp.ID).Count(&recorded)
	if recorded != 2 {
		t.Fatalf("%d bids recorded at the opening, want 2", recorded)
	}
	if n, brk, err := audit.Verify(ctx, a.App.DB); err != nil || brk != nil {
		t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
	}
}

// testConcurrentApplicationOpenings: after a framework's application
// deadline one consortium lead turns the first key, and the other's form
// turning the second is sent twice at once, once through each instance (a
// double click the load balancer spreads). The applications are opened
// once: one attempt opens them, the other is told they have already been
// opened, the lot's box is decrypted once and the opening recorded and
// audited once.
func testConcurrentApplicationOpenings(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	deadline := apptest.Start.AddDate(0, 0, 8)
	fw, lot := openLot(t, a, deadline, 3)
	applyAs(t, a, fw, lot, "demo-supplier", "Meridian", "sarah.lund@meridian.example.com", "Live at 40 trusts.")
	applyAs(t, a, fw, lot, "demo-supplier-2", "Northgate", "james.whitfield@northgate.example.com", "Piloting.")
	setClocks(deadline.Add(time.Minute), a, b)
	tom := audit.Actor{UserID: a.UserID(t, "demo-consortium-lead"), OrgID: fw.ConsortiumID}
	nadia := audit.Actor{UserID: a.UserID(t, "demo-consortium-lead-2"), OrgID: fw.ConsortiumID}
	if o, err := a.App.Framework.OpenApplications(ctx, tom, fw.ID); err != nil || o.Opened {
		t.Fatalf("the first key: %+v (err %v)", o, err)
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]framework.Opening, 2)
	errs := make([]error, 2)
	for i, h := range []*apptest.Harness{a, b} {
		wg.Go(func() {
			<-start
			results[i], errs[i] = h.App.Framework.OpenApplications(ctx, nadia, fw.ID)
		})
	}
	close(start)
	wg.Wait()
	opened, refused := 0, 0
	for i, err := range errs {
		switch {
		case err == nil && results[i].Opened:
			opened++
		case err != nil && strings.Contains(err.Error(), "already been opened"):
			refused++
		default:
			t.Errorf("the second key through instance %d: %+v (err %v); want opened, or told they were already opened", i, results[i], err)
		}
	}
	if opened != 1 || refused != 1 {
		t.Fatalf("%d openings and %d told the applications were already open; want one of each", opened, refused)
	}
	box := framework.ApplicationBox(fw, lot.ID)
	if n := countAudit(a, "sealed.open", audit.Success, box.Type+":"+box.ID); n != 1 {
		t.Errorf("the applications were decrypted %d times, want once", n)
	}
	if n := countAudit(a, "framework.applications.open", audit.Success, fw.ID); n != 1 {
		t.Errorf("the opening audited %d times, want once", n)
	}
	apps, err := b.App.Framework.Applications(ctx, fw.ID)
	if err != nil || len(apps) != 2 {
		t.Fatalf("B lists %d opened applications (err %v), want 2", len(apps), err)
	}
	if n, brk, err := audit.Verify(ctx, a.App.DB); err != nil || brk != nil {
		t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
	}
}

// testConcurrentTransitions: a framework's application deadline passes on
// both instances' clocks and both run the transitions job's work at the
// same moment. The move to evaluation is recorded once, with one audit
// entry, and each consortium lead is told once.
func testConcurrentTransitions(t *testing.T) {
	a, b := twoInstances(t)
	deadline := apptest.Start.AddDate(0, 0, 8)
	fw, _ := openLot(t, a, deadline, 3)
	setClocks(deadline.Add(time.Minute), a, b)

	start := make(chan struct{})
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i, h := range []*apptest.Harness{a, b} {
		wg.Go(func() {
			<-start
			counts[i], errs[i] = h.App.Framework.RecordTransitions(context.Background())
		})
	}
	close(start)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("transitions: %v", errs)
	}
	// The periodic job's own run (every minute, on the leader) may have got
	// there first; either way the transition is recorded once.
	if counts[0]+counts[1] > 1 {
		t.Fatalf("the instances recorded %v transitions, want one between them", counts)
	}
	if got := frameworkStates(t, a, fw.ID); len(got) != 1 || got[0] != framework.StateEvaluation {
		t.Fatalf("framework.state recorded as %v, want [%s] once", got, framework.StateEvaluation)
	}
	wantLeadsToldOnce(t, a)
	if _, err := b.App.Framework.RecordTransitions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := frameworkStates(t, a, fw.ID); len(got) != 1 {
		t.Fatalf("a later run recorded the transition again: %v", got)
	}
	t.Logf("transitions recorded by A and B: %v", counts)
}
