package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	_ "github.com/mattn/go-sqlite3" // the plain driver, to read dbstat

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/store/postgres"
)

// seedDatabase creates a database of orgs organizations and n keys with
// the store's seeding, from a fixed seed so that every run and every size
// draws the same kind of data. The time includes closing the store, which
// writes the last of the log into the file.
func seedDatabase(ctx context.Context, path string, n, orgs int) (time.Duration, error) {
	start := time.Now()
	st, err := store.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	spread, err := st.SeedOrgs(ctx, orgs, rng)
	if err == nil {
		err = st.SeedKeys(ctx, n, rng, spread...)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return time.Since(start), err
}

// diskUse returns the size of the database's files and the bytes of its
// pages in use: SQLite's dbstat total where it is compiled in (go run
// -tags sqlite_dbstat), else the pages less the free list, which is the
// same sum.
func diskUse(ctx context.Context, path string) (file, used int64, how string, err error) {
	if postgres.IsURL(path) {
		return schemaUse(ctx, path)
	}
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			file += fi.Size()
		}
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, 0, "", err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `SELECT sum(pgsize) FROM dbstat`).Scan(&used); err == nil {
		return file, used, "dbstat", nil
	}
	var pages, free, size int64
	err = db.QueryRowContext(ctx, `SELECT p.page_count, f.freelist_count, s.page_size
		FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`).Scan(&pages, &free, &size)
	return file, (pages - free) * size, "page_count − freelist_count", err
}

// schemaUse is diskUse for a PostgreSQL schema: what its tables take on
// disk, with their indexes, and the same again, since a schema has no
// file of its own.
func schemaUse(ctx context.Context, url string) (file, used int64, how string, err error) {
	db, err := sql.Open(postgres.DriverName, url)
	if err != nil {
		return 0, 0, "", err
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&used)
	return used, used, "pg_total_relation_size", err
}

// countKeys counts the keys of a database through its organizations.
func countKeys(ctx context.Context, st *store.Store) (int, error) {
	orgs, err := st.OrgsCounted(ctx, store.Scope{})
	n := 0
	for _, o := range orgs {
		n += o.Keys
	}
	return n, err
}

// The users the bench logs in as: an administrator who measures, and
// another who loads pages during the bulk actions.
const (
	benchUser = "bench"
	otherUser = "bench-other"
)

// addUsers creates the bench's administrators, or sets their passwords
// where they exist (a database measured before), and returns the password.
func addUsers(ctx context.Context, st *store.Store) (string, error) {
	password := "bench-" + rand.Text()
	actor := store.SystemActor("bench")
	for _, name := range []string{benchUser, otherUser} {
		found, err := st.Users(ctx, store.Scope{}, name)
		if err != nil {
			return "", err
		}
		if slices.ContainsFunc(found, func(u store.User) bool { return u.Username == name }) {
			_, err = st.SetPasswordByName(ctx, actor, name, password)
		} else {
			_, err = st.CreateUser(ctx, actor, store.NewUser{Username: name, Password: password, RoleID: store.RoleAdministrator})
		}
		if err != nil {
			return "", fmt.Errorf("user %s: %w", name, err)
		}
	}
	return password, nil
}

// rareWord is in the names of a few keys only (rareKeys of them), which
// the seeding never draws: a search for it finds a handful.
const (
	rareWord = "quokka"
	rareKeys = 5
)

// addRareKeys creates the keys named after rareWord that are missing.
func addRareKeys(ctx context.Context, st *store.Store) error {
	page, err := st.Keys(ctx, store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Search: rareWord}, Sort: store.SortName, Limit: 100})
	if err != nil {
		return err
	}
	for i := 1; i <= rareKeys; i++ {
		name := fmt.Sprintf("%s-relay-%d", rareWord, i)
		if slices.ContainsFunc(page.Keys, func(k store.Key) bool { return k.Name == name }) {
			continue
		}
		_, _, err := st.CreateKey(ctx, store.SystemActor("bench"), store.NewKey{
			Name: name, Permissions: []string{"securemail"}, Enabled: true, Capacity: 120, Frequency: 60})
		if err != nil {
			return fmt.Errorf("key %s: %w", name, err)
		}
	}
	return nil
}

// orgPicks are the organizations whose filters are measured: the one under
// the root with the most keys below it, and the leaf with the fewest.
type orgPicks struct {
	count                    int // organizations, the root included
	root, large, small       store.Org
	largeKeys, smallKeys     int
	haveLarge, haveSmallLeaf bool
}

func pickOrgs(ctx context.Context, st *store.Store) (orgPicks, error) {
	orgs, err := st.OrgsCounted(ctx, store.Scope{})
	if err != nil {
		return orgPicks{}, err
	}
	if len(orgs) == 0 {
		return orgPicks{}, errors.New("the database has no organization")
	}
	// Orgs come in tree order, parents first: read backwards, each adds
	// its subtree to its parent's.
	below := map[string]int{}
	for _, o := range slices.Backward(orgs) {
		below[o.ID] += o.Keys
		if o.ParentID != "" {
			below[o.ParentID] += below[o.ID]
		}
	}
	p := orgPicks{count: len(orgs), root: orgs[0]}
	for _, o := range orgs[1:] {
		if n := below[o.ID]; n > p.largeKeys {
			p.large, p.largeKeys, p.haveLarge = o, n, true
		}
		if o.Children == 0 && o.Keys > 0 && (!p.haveSmallLeaf || o.Keys < p.smallKeys) {
			p.small, p.smallKeys, p.haveSmallLeaf = o, o.Keys, true
		}
	}
	return p, nil
}

// removeDatabase removes a database and the files SQLite keeps beside it.
func removeDatabase(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}

// tempPath is a file in dir for a database of n keys.
func tempPath(dir string, n int) string {
	return filepath.Join(dir, fmt.Sprintf("keydesk-%d.db", n))
}
