package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/nhsprocure/portal/internal/app/apptest"
)

// TestMetricsShowPoolAndJobBacklog: /metrics carries what an operator of
// several instances watches besides requests: the database pool of this
// instance and the job queue's backlog shared by all, the latter agreeing
// with the queue's own table.
func TestMetricsShowPoolAndJobBacklog(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-platform-admin")
		// A test email is a job; it may wait or be done by the time of the
		// scrape, and either way it is counted once.
		page := "/admin/users/" + h.UserID(t, "demo-trust-lead")
		if r := b.PostForm(page, page+"/test-email", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("test email: status %d", r.Status)
		}
		r := b.Get("/metrics")
		if r.Status != http.StatusOK {
			t.Fatalf("/metrics: status %d", r.Status)
		}
		for _, want := range []string{`go_sql_max_open_connections{db_name="portal"}`, `go_sql_wait_count_total{db_name="portal"}`, `portal_jobs{state="available"}`, `portal_jobs{state="discarded"}`} {
			if !regexp.MustCompile(regexp.QuoteMeta(want) + ` \d`).MatchString(r.Body) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		var sum int64
		for _, m := range regexp.MustCompile(`(?m)^portal_jobs\{state="\w+"\} (\d+)$`).FindAllStringSubmatch(r.Body, -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			sum += n
		}
		var rows int64
		if err := h.App.DB.Raw("SELECT count(*) FROM river_job").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows == 0 || sum != rows {
			t.Errorf("portal_jobs adds up to %d; the queue holds %d jobs (want the same, at least one)", sum, rows)
		}
	})
}
