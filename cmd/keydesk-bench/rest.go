package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/keydesk/keydesk/store"
)

// A server's resident memory at rest is measured in a process of its own,
// started on the database as serve would be: the bench process keeps what
// seeding a million keys left in its C heap, which no server started on
// the file holds. The bench runs itself again with these set.
const (
	restDBEnv       = "KEYDESK_BENCH_AT_REST_DB"
	restPasswordEnv = "KEYDESK_BENCH_AT_REST_PASSWORD"
)

// memoryAtRest runs a server of the database in a process of its own and
// records its resident memory once it has served the key list.
func (b *sizeBench) memoryAtRest(ctx context.Context, path, password string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), restDBEnv+"="+path, restPasswordEnv+"="+password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("the server at rest: %w: %s", err, stderr.Bytes())
	}
	rss, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return fmt.Errorf("the server at rest printed %q", out)
	}
	b.res.add("resident memory at rest: a server started on the file, the first page served (MB)", restMemoryBudget, megabytes(rss))
	return nil
}

// atRestMain is the process that memoryAtRest starts, when this is it: it
// serves at rest and exits. It reports false in any other process.
func atRestMain(ctx context.Context) bool {
	path := os.Getenv(restDBEnv)
	if path == "" {
		return false
	}
	if err := serveAtRest(ctx, path, os.Getenv(restPasswordEnv), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "keydesk-bench, the server at rest:", err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

// serveAtRest is the whole of the process memoryAtRest starts: it opens
// the database, serves the key list to the bench user over loopback HTTP,
// hands back what the runtime holds for nothing, and prints its resident
// memory in bytes.
func serveAtRest(ctx context.Context, path, password string, stdout io.Writer) error {
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	con, err := startConsole(ctx, st)
	if err != nil {
		return err
	}
	defer con.close()
	c, err := logIn(ctx, con, benchUser, password)
	if err != nil {
		return err
	}
	if _, err := c.get(ctx, "/keys", false); err != nil {
		return err
	}
	atRest()
	m, err := readMemory()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, m.rss)
	return err
}
