package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

func TestASecondServerOnTheSameDatabaseRefusesToStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keydesk.db")
	e, _ := testEnv(nil)
	startServer(t, e, "--db", db)

	err := e.serve(context.Background(), []string{"--db", db, "--addr", "127.0.0.1:0"}, nil)
	if err == nil || !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second serve: %v; want a refusal naming the file and the other process", err)
	}

	// Commands beside the server keep working.
	var out strings.Builder
	backup := filepath.Join(t.TempDir(), "copy.db")
	if err := run(context.Background(), []string{"backup", "--db", db, "--out", backup}, e.getenv, nil, &out, io.Discard); err != nil {
		t.Fatalf("backup beside the server: %v", err)
	}
}

func TestCommandsRefuseADatabaseThatDoesNotExist(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.db")
	getenv := func(string) string { return "" }
	err := run(context.Background(), []string{"backup", "--db", typo, "--out", filepath.Join(dir, "out.db")}, getenv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no database at "+typo) {
		t.Fatalf("backup of a missing database: %v", err)
	}
	for _, p := range []string{typo, filepath.Join(dir, "out.db")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s was created: %v", p, err)
		}
	}
}

// TestShutdownFinishesTheRequestInFlight stops the server while a
// verification is half sent: the request is answered, its use is written
// to the database, and serve returns cleanly.
func TestShutdownFinishesTheRequestInFlight(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keydesk.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	k, secret, err := st.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{
		Name: "svc", Permissions: []string{"chat"}, Enabled: true, Capacity: 10, Frequency: 60})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	e, _ := testEnv(map[string]string{"KEYDESK_ADMIN_PASSWORD": "long enough password"})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- e.serve(ctx, []string{"--db", db, "--addr", "127.0.0.1:0"}, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start")
	}
	defer cancel()

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	body := fmt.Sprintf(`{"key": %q}`, secret)
	// The headers go first and ask to continue: the server answers "100
	// Continue" only once the handler reads the body, so the request is
	// surely in flight when the shutdown begins. (A request whose headers
	// the server has not read yet is dropped by net/http's shutdown.)
	if _, err := fmt.Fprintf(conn, "POST /api/v1/keys/verify HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		addr, len(body)); err != nil {
		t.Fatal(err)
	}
	replies := bufio.NewReader(conn)
	res, err := http.ReadResponse(replies, nil)
	if err != nil || res.StatusCode != http.StatusContinue {
		t.Fatalf("before the body: %v, %v; want 100 Continue", res, err)
	}
	cancel()
	// Stopping: new connections are refused...
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// ...but the request in flight is finished.
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err = http.ReadResponse(replies, nil)
	if err != nil {
		t.Fatalf("the request in flight was dropped: %v", err)
	}
	var v struct {
		Valid bool   `json:"valid"`
		ID    string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || !v.Valid || v.ID != k.ID {
		t.Fatalf("answer %d %+v, %v", res.StatusCode, v, err)
	}
	res.Body.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}

	st, err = store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Key(context.Background(), store.Scope{}, k.ID)
	if err != nil || got.UseCount != 1 {
		t.Fatalf("uses written at shutdown = %d, %v; want 1", got.UseCount, err)
	}
}

// waitFor polls cond until it holds, for a real server's state to settle.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestChangesFromTheCommandLineReachTheServer revokes a key that the
// server has cached, from another process's store: within a second the
// server refuses it.
func TestChangesFromTheCommandLineReachTheServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keydesk.db")
	e, _ := testEnv(nil)
	url := startServer(t, e, "--db", db)
	cli, err := store.OpenExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	k, secret, err := cli.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{
		Name: "svc", Permissions: []string{"chat"}, Enabled: true, Capacity: 1000, Frequency: 60})
	if err != nil {
		t.Fatal(err)
	}
	verify := func() string {
		res, err := http.Post(url+"/api/v1/keys/verify", "application/json", strings.NewReader(fmt.Sprintf(`{"key": %q}`, secret)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v struct {
			Valid bool   `json:"valid"`
			Code  string `json:"code"`
		}
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		if v.Valid {
			return "valid"
		}
		return v.Code
	}
	if got := verify(); got != "valid" {
		t.Fatalf("new key: %s", got)
	}
	if _, err := cli.RevokeKey(context.Background(), store.SystemActor("test"), k.ID); err != nil {
		t.Fatal(err)
	}
	// The server looks every changePollInterval (a quarter second).
	waitFor(t, func() bool { return verify() == store.CodeRevoked })
}

func TestSeedSpreadsKeysOverOrganizations(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seed.db")
	if err := run(context.Background(), []string{"seed", "--db", db, "--keys", "400", "--orgs", "30"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orgs, err := st.OrgsCounted(context.Background(), store.Scope{})
	if err != nil || len(orgs) != 31 {
		t.Fatalf("%d organizations, %v; want the root and 30", len(orgs), err)
	}
	keys, deepest, holding := 0, 0, 0
	for _, o := range orgs {
		keys += o.Keys
		deepest = max(deepest, o.Depth)
		if o.Keys > 0 {
			holding++
		}
	}
	if keys != 400 || deepest > 4 || deepest < 2 || holding < 20 {
		t.Fatalf("%d keys over %d organizations, %d deep", keys, holding, deepest)
	}
}
