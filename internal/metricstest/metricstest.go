// Package metricstest reads Prometheus metrics as a scraper does, for the
// tests that count on them.
package metricstest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are scraped metrics by name.
type Families map[string]*dto.MetricFamily

// Parse reads the text exposition format.
func Parse(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// Scrape asks h for its metrics, as Prometheus would.
func Scrape(h http.Handler) (Families, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("scrape: status %d", rec.Code)
	}
	return Parse(rec.Body)
}

// Value is the value of the sample of family whose labels include labels
// (a histogram's count of observations), or -1 when there is none.
func (f Families) Value(family string, labels map[string]string) float64 {
	mf := f[family]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.GetMetric() {
		for name, value := range labels {
			found := false
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == name && l.GetValue() == value
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}
