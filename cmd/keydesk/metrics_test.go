package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/internal/lockedbuf"
	"github.com/keydesk/keydesk/internal/metricstest"
	"github.com/keydesk/keydesk/store"
)

// TestServeMetricsAndJSONLogs runs serve with --metrics-addr and
// --log-format json, verifies keys over HTTP and changes one from another
// process: the metrics, scraped from their own address, count each answer
// by its code, the cache's hits, misses and invalidations, the answers
// refused for a key's rate limit and a token's allowance, the requests by
// route, the background jobs and the pools; every log line is one JSON
// object; the console's address answers no metrics.
func TestServeMetricsAndJSONLogs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keydesk.db")
	var stdout bytes.Buffer
	var stderr lockedbuf.Buffer
	vars := map[string]string{"KEYDESK_API_BURST": "1", "KEYDESK_API_PER_MINUTE": "1"}
	e := env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	console := startServer(t, e, "--db", db, "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	m := regexp.MustCompile(`Metrics for Prometheus at (http://\S+/metrics)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where its metrics are:\n%s", stdout.String())
	}
	scrape := func() metricstest.Families {
		t.Helper()
		res, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		families, err := metricstest.Parse(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("scrape: %d %v", res.StatusCode, err)
		}
		return families
	}

	// A key made by another process, as a command run beside serve would.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, secret, err := st.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{Name: "svc", Permissions: []string{"chat"}, Enabled: true,
		Capacity: store.DefaultCapacity, Frequency: store.DefaultFrequency})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(key string) string {
		t.Helper()
		res, err := http.Post(console+"/api/v1/keys/verify", "application/json", strings.NewReader(`{"key": "`+key+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct{ Code string }
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Code
	}
	for _, c := range []struct{ key, code string }{{secret, ""}, {secret, ""}, {store.NewSecret(), store.CodeNotFound}, {"kd_nope", store.CodeMalformed}} {
		if got := verify(c.key); got != c.code {
			t.Fatalf("verify: %q, want %q", got, c.code)
		}
	}
	got := scrape()
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"keydesk_verifications_total", map[string]string{"code": "valid"}, 2},
		{"keydesk_verifications_total", map[string]string{"code": store.CodeNotFound}, 1},
		{"keydesk_verifications_total", map[string]string{"code": store.CodeMalformed}, 1},
		{"keydesk_verification_duration_seconds", nil, 4},
		{"keydesk_verify_cache_hits_total", nil, 1},
		{"keydesk_verify_cache_misses_total", nil, 2}, // the first use, and no such key
		{"keydesk_http_requests_total", map[string]string{"route": "/api/v1/keys/verify", "method": "POST", "status": "200"}, 4},
		{"keydesk_rate_limited_total", map[string]string{"limit": "key"}, -1}, // none yet: no sample
	} {
		if v := got.Value(c.family, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, v, c.want)
		}
	}
	if v := got.Value("keydesk_db_connections_open", map[string]string{"pool": "writer"}); v < 1 {
		t.Errorf("the writer pool has %v connections open", v)
	}

	// A key's rate limit, and a token's allowance (one request), spent.
	_, tight, err := st.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{Name: "tight", Permissions: []string{"chat"}, Enabled: true,
		Capacity: 1, Frequency: 60})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"", store.CodeRateLimited} {
		if got := verify(tight); got != want {
			t.Fatalf("the tight key: %q, want %q", got, want)
		}
	}
	_, token, err := st.CreateTokenFor(context.Background(), store.SystemActor("test"), "admin",
		store.NewToken{Name: "metrics", Rights: []store.Right{store.RightKeysView}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		req, _ := http.NewRequest(http.MethodGet, console+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("GET /api/v1/me: %d, want %d", res.StatusCode, want)
		}
	}
	got = scrape()
	for labels, want := range map[string]float64{"key": 1, "token": 1} {
		if v := got.Value("keydesk_rate_limited_total", map[string]string{"limit": labels}); v != want {
			t.Errorf("rate limited by %s: %v, want %v", labels, v, want)
		}
	}
	if v := got.Value("keydesk_http_requests_total", map[string]string{"route": "/api/v1/me", "status": "429"}); v != 1 {
		t.Errorf("429 answers of /api/v1/me counted: %v", v)
	}

	// Revoked by the other process: the server drops its cache, and says so.
	if _, err := st.RevokeKey(context.Background(), store.SystemActor("test"), k.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for verify(secret) != store.CodeRevoked {
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts the revoked key")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := scrape().Value("keydesk_verify_cache_invalidations_total", nil); v < 1 {
		t.Errorf("invalidations: %v, want at least 1", v)
	}
	// The jobs run when serve starts; their runs are counted once done.
	for deadline := time.Now().Add(10 * time.Second); scrape().Value("keydesk_job_runs_total", map[string]string{"job": "rotate", "outcome": "ok"}) != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("no run of the rotation job is counted: %v", scrape()["keydesk_job_runs_total"])
		}
		time.Sleep(50 * time.Millisecond)
	}

	res, err := http.Get(console + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(body), "keydesk_verifications_total") {
		t.Error("the console's own address answers the metrics")
	}

	lines := 0
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line["level"] == nil || line["msg"] == nil {
			t.Fatalf("a log line that is not a JSON object with level and msg: %s", sc.Text())
		}
		lines++
	}
	if lines == 0 {
		t.Fatal("serve logged nothing")
	}
}

// TestLogFormatIsChecked: a format that is neither text nor json stops
// serve before it opens anything.
func TestLogFormatIsChecked(t *testing.T) {
	e, _ := testEnv(nil)
	err := e.serve(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "k.db"), "--log-format", "xml"}, nil)
	if err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Fatalf("serve --log-format xml: %v", err)
	}
}
