package web

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nhsprocure/portal/internal/jobs"
	"github.com/nhsprocure/portal/internal/store"
)

// metrics counts requests and their durations by route pattern (never by raw
// path, which would hold IDs and grow without bound).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the request metrics and, beside Go's and the
// process's own, the two an operator of several instances needs from each:
// the database pool (go_sql_*: connections in use, waits for one) and the
// shared job queue's backlog (portal_jobs).
func newMetrics(reg *prometheus.Registry, db *store.DB) (*metrics, error) {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "HTTP request duration by method and route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	cs := []prometheus.Collector{m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	if db != nil {
		sqlDB, err := db.SQL()
		if err != nil {
			return nil, err
		}
		cs = append(cs, collectors.NewDBStatsCollector(sqlDB, "portal"), &jobsCollector{db: db, sql: sqlDB})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			if _, dup := err.(prometheus.AlreadyRegisteredError); !dup {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// jobsCollector reports how many background jobs are in each state, read
// from the queue's table at scrape time. Every instance reports the same
// shared figures, so alert on one instance's series (or on max by state).
type jobsCollector struct {
	db  *store.DB
	sql *sql.DB
}

var jobsDesc = prometheus.NewDesc("portal_jobs", "Background jobs by state (shared by every instance).", []string{"state"}, nil)

func (j *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (j *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := jobs.CountByState(ctx, j.db)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for _, st := range jobs.States {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
