package web

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// apiBench is a console over a real database of seeded keys (none when
// seed is 0), with no allowance per token to speak of, and a token of an
// administrator that grants rights.
func apiBench(b *testing.B, seed int, rights ...store.Right) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	st.SetMasterKey(func() (*store.MasterKey, error) { return store.ParseMasterKey(store.GenerateMasterKey()) })
	if seed > 0 {
		if err := st.SeedKeys(ctx, seed, rand.New(rand.NewPCG(1, 2))); err != nil {
			b.Fatal(err)
		}
	}
	// The token's allowance is not what is measured.
	h, err := New(ctx, st, Config{Logger: discardLogger(), APIBurst: 1 << 30, APIPerMinute: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.SystemActor("bench"), store.NewUser{Username: "robot", Password: "long enough password", RoleID: store.RoleAdministrator})
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, store.SystemActor("bench"), u.ID, store.NewToken{Name: "bench", Rights: rights, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	return h, token
}

// BenchmarkAPICreateKey makes keys through POST /api/v1/apikeys, the
// handler and a real database, and reports keys a second:
//
//	go test -run '^$' -bench APICreateKey ./web/
func BenchmarkAPICreateKey(b *testing.B) {
	h, token := apiBench(b, 0, store.RightKeysView, store.RightKeysRead, store.RightKeysCreate)
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		req := httptest.NewRequest("POST", "/api/v1/apikeys", strings.NewReader(`{"tenant": "*", "name": "key `+strconv.Itoa(i)+`", "permissions": ["chat"]}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "keys/s")
}

// BenchmarkAPIListKeys reads pages of 1,000 keys through GET
// /api/v1/apikeys, the handler and a real database of 5,000 keys:
//
//	go test -run '^$' -bench APIListKeys ./web/
func BenchmarkAPIListKeys(b *testing.B) {
	h, token := apiBench(b, 5000, store.RightKeysView, store.RightKeysRead)
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/v1/apikeys?limit=1000", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
