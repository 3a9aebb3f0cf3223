package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keydesk/keydesk/store"
)

// poolCollector reads the store's connection pools when scraped: the
// pool of readers and the one writer.
type poolCollector struct{ st *store.Store }

var (
	poolOpen = prometheus.NewDesc("keydesk_db_connections_open",
		"Open connections of a database pool.", []string{"pool"}, nil)
	poolInUse = prometheus.NewDesc("keydesk_db_connections_in_use",
		"Connections of a database pool in use.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("keydesk_db_connection_waits_total",
		"Times a request waited for a connection of a database pool.", []string{"pool"}, nil)
	poolWaited = prometheus.NewDesc("keydesk_db_connection_wait_seconds_total",
		"Time requests waited for a connection of a database pool.", []string{"pool"}, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolWaits, poolWaited} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range c.st.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections), name)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
	}
}
