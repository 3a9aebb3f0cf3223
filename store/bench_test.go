package store

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks share one database of KEYDESK_BENCH_KEYS seeded keys
// (default 100,000), built once per run outside the timings:
//
//	KEYDESK_BENCH_KEYS=1000000 go test -run='^$' -bench=. -benchmem ./store/
//
// KEYDESK_BENCH_DB names a database to reuse instead (made by
// "keydesk seed"), since seeding a million keys takes a while.
var (
	benchOnce  sync.Once
	benchStore *Store
	benchErr   error
)

var benchN int

func benchKeys() int { return benchN }

func openBenchStore(b *testing.B) *Store {
	b.Helper()
	benchOnce.Do(func() {
		if path := os.Getenv("KEYDESK_BENCH_DB"); path != "" {
			if benchStore, benchErr = Open(context.Background(), path); benchErr == nil {
				benchErr = benchStore.reader.QueryRow(`SELECT count(*) FROM keys`).Scan(&benchN)
			}
			return
		}
		benchN = 100_000
		if n, err := strconv.Atoi(os.Getenv("KEYDESK_BENCH_KEYS")); err == nil && n > 0 {
			benchN = n
		}
		dir, err := os.MkdirTemp("", "keydesk-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchStore, benchErr = Open(context.Background(), filepath.Join(dir, "bench.db"))
		if benchErr != nil {
			return
		}
		start := time.Now()
		rng := rand.New(rand.NewPCG(1, 2))
		var orgs []Org
		if orgs, benchErr = benchStore.SeedOrgs(context.Background(), 100, rng); benchErr == nil {
			benchErr = benchStore.SeedKeys(context.Background(), benchKeys(), rng, orgs...)
		}
		b.Logf("seeded %d keys in %s", benchKeys(), time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func benchmarkKeys(b *testing.B, q KeyQuery) {
	s := openBenchStore(b)
	ctx := context.Background()
	q.Limit = 50
	page, err := s.Keys(ctx, Scope{}, q)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(page.Total), "matches")
	for b.Loop() {
		if _, err := s.Keys(ctx, Scope{}, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeysFirstPage is the API keys page as it opens.
func BenchmarkKeysFirstPage(b *testing.B) { benchmarkKeys(b, KeyQuery{Sort: SortName}) }

// BenchmarkKeysDeepPage is a page far into the list: keyset paging costs
// the same there as on the first page.
func BenchmarkKeysDeepPage(b *testing.B) {
	s := openBenchStore(b)
	var after string
	// The cursor of the key in the middle of the name order.
	mid := benchKeys() / 2
	i := 0
	_, err := s.EachKey(context.Background(), Scope{}, KeyFilter{}, SortName, false, func(k Key) error {
		if i == mid {
			after = encodeCursor([]any{sortName(k.Name), k.rowID})
		}
		i++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	benchmarkKeys(b, KeyQuery{Sort: SortName, After: after})
}

func BenchmarkKeysSearch(b *testing.B) {
	benchmarkKeys(b, KeyQuery{KeyFilter: KeyFilter{Search: "bill"}, Sort: SortName})
}

func BenchmarkKeysSearchOneLetter(b *testing.B) {
	benchmarkKeys(b, KeyQuery{KeyFilter: KeyFilter{Search: "x"}, Sort: SortName})
}

func BenchmarkKeysSoonUnavailable(b *testing.B) {
	benchmarkKeys(b, KeyQuery{KeyFilter: KeyFilter{Statuses: []StatusFilter{FilterSoon}}, Sort: SortExpires})
}

// BenchmarkExpiringSoonCached is the navigation's count on a page after
// the first: kept while nothing is written.
func BenchmarkExpiringSoonCached(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	soon, err := s.ExpiringSoon(ctx, Scope{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(soon.Total), "matches")
	for b.Loop() {
		if _, err := s.ExpiringSoon(ctx, Scope{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeysSearchStatusPermission(b *testing.B) {
	benchmarkKeys(b, KeyQuery{KeyFilter: KeyFilter{Search: "prod", Statuses: []StatusFilter{FilterAvailable}, Permission: "securemail"}, Sort: SortCreated, Desc: true})
}

func BenchmarkKeysSortStatus(b *testing.B) { benchmarkKeys(b, KeyQuery{Sort: SortStatus}) }

// benchTenant is the organization just below the root whose subtree holds
// the most keys: a large tenant's view of the list.
func benchTenant(b *testing.B) string {
	s := openBenchStore(b)
	orgs, err := s.OrgsCounted(context.Background(), Scope{})
	if err != nil {
		b.Fatal(err)
	}
	sums := map[string]int{}
	var best string
	for _, o := range orgs {
		if o.Depth == 0 {
			continue
		}
		top := strings.SplitN(o.Path, "/", 3)[1]
		sums[top] += o.Keys
		if best == "" || sums[top] > sums[best] {
			best = top
		}
	}
	for _, o := range orgs {
		if o.Depth == 1 && o.Name == best {
			return o.ID
		}
	}
	b.Fatal("the benchmark database has no organizations: seed it with keydesk seed --orgs")
	return ""
}

func BenchmarkKeysOrg(b *testing.B) {
	benchmarkKeys(b, KeyQuery{KeyFilter: KeyFilter{Org: benchTenant(b)}, Sort: SortName})
}

func BenchmarkKeysOrgSearchStatus(b *testing.B) {
	benchmarkKeys(b, KeyQuery{KeyFilter: KeyFilter{Org: benchTenant(b), Search: "prod", Statuses: []StatusFilter{FilterAvailable}}, Sort: SortExpires})
}

// BenchmarkExportAll streams every key, as the CSV download does.
func BenchmarkExportAll(b *testing.B) {
	s := openBenchStore(b)
	for b.Loop() {
		n, err := s.EachKey(context.Background(), Scope{}, KeyFilter{}, SortName, false, func(Key) error { return nil })
		if err != nil || n != benchKeys() {
			b.Fatalf("%d keys, %v", n, err)
		}
	}
	b.ReportMetric(float64(benchKeys()), "rows/op")
}

func BenchmarkCreateKey(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		_, _, err := s.CreateKey(ctx, SystemActor("bench"), NewKey{Name: "bench-create-" + strconv.Itoa(i) + "-" + newPublicID(),
			Permissions: []string{"chat"}, Enabled: true, Capacity: DefaultCapacity, Frequency: DefaultFrequency})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchSecret creates a key that no rate limit stops, in a fresh store.
func benchSecret(b *testing.B) (*Store, string) {
	b.Helper()
	s, _ := newTestStore(b)
	// A clock that moves a microsecond per reading: the key's allowance of
	// a million a second keeps up with any loop.
	var tick atomic.Int64
	start := time.Now()
	s.Now = func() time.Time { return start.Add(time.Duration(tick.Add(1000))) }
	_, secret, err := s.CreateKey(context.Background(), SystemActor("bench"), NewKey{Name: "bench", Permissions: []string{"chat"},
		Enabled: true, Capacity: MaxCapacity, Frequency: 1})
	if err != nil {
		b.Fatal(err)
	}
	return s, secret
}

// BenchmarkVerifyCached is the hot path: a key verified before.
func BenchmarkVerifyCached(b *testing.B) {
	s, secret := benchSecret(b)
	ctx := context.Background()
	if _, err := s.VerifyKey(ctx, secret, "chat", ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.VerifyKey(ctx, secret, "chat", "")
		if err != nil || !v.Valid {
			b.Fatalf("%+v, %v", v, err)
		}
	}
}

// BenchmarkVerifyCachedParallel is BenchmarkVerifyCached from 16
// goroutines at once, as a busy server's requests are: on PostgreSQL each
// verification spends from the key's shared bucket, a round trip.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	s, secret := benchSecret(b)
	ctx := context.Background()
	if _, err := s.VerifyKey(ctx, secret, "chat", ""); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v, err := s.VerifyKey(ctx, secret, "chat", "")
			if err != nil || !v.Valid {
				b.Errorf("%+v, %v", v, err)
				return
			}
		}
	})
}

// BenchmarkVerifyCachedInGrace verifies a key's previous secret, in its
// grace period after a rotation.
func BenchmarkVerifyCachedInGrace(b *testing.B) {
	s, secret := benchSecret(b)
	ctx := context.Background()
	v, err := s.VerifyKey(ctx, secret, "chat", "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.RotateKey(ctx, SystemActor("bench"), v.ID, MaxGraceDays); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.VerifyKey(ctx, secret, "chat", "")
		if err != nil || !v.Valid || v.GraceUntil.IsZero() {
			b.Fatalf("%+v, %v", v, err)
		}
	}
}

// BenchmarkVerifyCachedWithOrg is BenchmarkVerifyCached for a service that
// names its organization: a cluster key asked about an organization three
// levels down.
func BenchmarkVerifyCachedWithOrg(b *testing.B) {
	s, secret := benchSecret(b)
	ctx := context.Background()
	parent := ""
	var org Org
	for _, name := range []string{"Acme", "EU", "Paris"} {
		var err error
		if org, err = s.CreateOrg(ctx, SystemActor("bench"), name, parent); err != nil {
			b.Fatal(err)
		}
		parent = org.ID
	}
	if _, err := s.VerifyKey(ctx, secret, "chat", org.ID); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.VerifyKey(ctx, secret, "chat", org.ID)
		if err != nil || !v.Valid {
			b.Fatalf("%+v, %v", v, err)
		}
	}
}

// BenchmarkVerifyUncached reads the key from the database every time.
func BenchmarkVerifyUncached(b *testing.B) {
	s, secret := benchSecret(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s.cache.drop(nil, false)
		v, err := s.VerifyKey(ctx, secret, "chat", "")
		if err != nil || !v.Valid {
			b.Fatalf("%+v, %v", v, err)
		}
	}
}

// BenchmarkVerifyParallel is the cached path from many goroutines at once.
func BenchmarkVerifyParallel(b *testing.B) {
	s, secret := benchSecret(b)
	ctx := context.Background()
	s.VerifyKey(ctx, secret, "chat", "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.VerifyKey(ctx, secret, "chat", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUsageTables fills the usage tables as 10,000 keys used every
// day would: 400 days by the day and 14 days by the hour, each with two
// outcomes (valid, and one kind of refusal), and reports what each table
// takes on disk, in MB. One iteration is enough:
//
//	go test -run '^$' -bench UsageTables -benchtime 1x ./store/
func BenchmarkUsageTables(b *testing.B) {
	for b.Loop() {
		s, err := Open(context.Background(), filepath.Join(b.TempDir(), "usage.db"))
		if err != nil {
			b.Fatal(err)
		}
		size := func() int64 {
			var pages, size int64
			if err := s.writer.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
				b.Fatal(err)
			}
			if err := s.writer.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
				b.Fatal(err)
			}
			return pages * size
		}
		fill := func(table, bucket string, periods, step int64) float64 {
			before := size()
			// Keys 1 to 10,000, each period, outcomes 0 and 2, in primary
			// key order as a flush over time writes them.
			_, err := s.writer.Exec(`WITH RECURSIVE k(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM k WHERE id < 10000),
				p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n < ? - 1)
				INSERT INTO `+table+` (key_id, `+bucket+`, outcome, count)
				SELECT k.id, 1796000000 + p.n * ?, o.v, 1000 + (k.id * 7 + p.n) % 50000 FROM k, p, (SELECT 0 AS v UNION ALL SELECT 2) o
				ORDER BY 1, 2, 3`, periods, step)
			if err != nil {
				b.Fatal(err)
			}
			return float64(size()-before) / 1e6
		}
		b.ReportMetric(fill("key_usage_daily", "day", 400, 86400), "MB_daily")
		b.ReportMetric(fill("key_usage_hourly", "hour", 14*24, 3600), "MB_hourly")
		s.Close()
	}
}
