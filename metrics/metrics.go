// Package metrics keeps what a Keydesk server counts for Prometheus:
// verifications by outcome and their latency, the verification cache,
// rate-limited answers, HTTP requests by route and status, background job
// runs, webhook deliveries and the database's connection pools. serve
// answers them on an address of their own (--metrics-addr), never on the
// console's.
//
// A nil *Metrics counts nothing, so that callers need not check.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keydesk/keydesk/store"
)

// Metrics is one server's metrics, in a registry of its own.
type Metrics struct {
	reg            *prometheus.Registry
	verifications  *prometheus.CounterVec
	verifyLatency  prometheus.Histogram
	rateLimited    *prometheus.CounterVec
	requests       *prometheus.CounterVec
	requestLatency *prometheus.HistogramVec
	jobRuns        *prometheus.CounterVec
	deliveries     *prometheus.CounterVec
}

// New makes the metrics of a server of st: the Go runtime's and the
// process's, the store's cache and pools, read when scraped, and the
// counters the server adds to.
func New(st *store.Store) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keydesk_verifications_total",
			Help: "Keys verified for services, by answer: valid, or the code of the refusal.",
		}, []string{"code"}),
		verifyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "keydesk_verification_duration_seconds",
			Help: "Time to verify a key, from the request's body read to the answer ready.",
			// From a cached key's microseconds to a slow disk's tens of milliseconds.
			Buckets: prometheus.ExponentialBuckets(5e-6, 4, 10),
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keydesk_rate_limited_total",
			Help: "Answers refused for a rate limit: a key's (verification) or an access token's (management API).",
		}, []string{"limit"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keydesk_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		requestLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keydesk_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(1e-4, 3, 10),
		}, []string{"route"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keydesk_job_runs_total",
			Help: "Background job runs by this process, by job and outcome (ok or failed).",
		}, []string{"job", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keydesk_webhook_deliveries_total",
			Help: "Webhook delivery tries, by the state each left its delivery in: delivered, waiting (to be tried again) or failed (no tries left).",
		}, []string{"outcome"}),
	}
	cache := func(pick func(store.CacheStats) float64) func() float64 {
		return func() float64 { return pick(st.CacheStats()) }
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.verifications, m.verifyLatency, m.rateLimited, m.requests, m.requestLatency, m.jobRuns, m.deliveries,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keydesk_verify_cache_hits_total",
			Help: "Verifications answered from the cache of keys in memory.",
		}, cache(func(c store.CacheStats) float64 { return float64(c.Hits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keydesk_verify_cache_misses_total",
			Help: "Verifications that read the database: a key not cached yet, or no such key.",
		}, cache(func(c store.CacheStats) float64 { return float64(c.Misses) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keydesk_verify_cache_invalidations_total",
			Help: "Cached secrets dropped because their key, its organization or the database changed.",
		}, cache(func(c store.CacheStats) float64 { return float64(c.Invalidations) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "keydesk_verify_cache_entries",
			Help: "Secrets in the cache of keys in memory.",
		}, cache(func(c store.CacheStats) float64 { return float64(c.Entries) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keydesk_rate_limit_reservations_total",
			Help: "Trips to the rate limits that every instance shares (PostgreSQL), each reserving a batch of a key's verifications.",
		}, cache(func(c store.CacheStats) float64 { return float64(c.RateTrips) })),
		poolCollector{st: st},
	)
	return m
}

// Handler answers a scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Verified counts a verification's answer ("" for valid) and its time.
func (m *Metrics) Verified(code string, took time.Duration) {
	if m == nil {
		return
	}
	if code == "" {
		code = "valid"
	}
	m.verifications.WithLabelValues(code).Inc()
	m.verifyLatency.Observe(took.Seconds())
	if code == store.CodeRateLimited {
		m.rateLimited.WithLabelValues("key").Inc()
	}
}

// TokenLimited counts a management API request refused for its token's
// allowance.
func (m *Metrics) TokenLimited() {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues("token").Inc()
}

// Request counts an HTTP request by its route's pattern (never the path
// itself, which may hold ids or tokens), method and status. A method
// outside HTTP's own is counted as OTHER: clients may send any word, and
// each would be a series of its own.
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if !slices.Contains(methods, method) {
		method = "OTHER"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestLatency.WithLabelValues(route).Observe(took.Seconds())
}

// methods are the HTTP methods counted by name.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

// JobRan counts a background job's run.
func (m *Metrics) JobRan(job string, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	m.jobRuns.WithLabelValues(job, outcome).Inc()
}

// Delivered counts a webhook delivery's try by the state it left the
// delivery in.
func (m *Metrics) Delivered(state string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(state).Inc()
}
