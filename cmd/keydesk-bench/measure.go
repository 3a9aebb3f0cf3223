package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/store/postgres"
)

// database is the file one column of the table is measured on.
type database struct {
	path   string
	seed   int           // keys to seed first; 0 for a database that exists
	seeded time.Duration // how long the seeding took
	// temporary marks a database nobody keeps: the bulk actions change it
	// in place rather than on a copy.
	temporary bool
}

// sizeBench measures one database through the console that serves it.
type sizeBench struct {
	cfg   config
	st    *store.Store
	con   *console
	admin *client
	orgs  orgPicks
	res   *result
	log   io.Writer
	start time.Time
}

func (b *sizeBench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "%s keys, %s: %s\n", thousands(b.res.keys), since(b.start), fmt.Sprintf(format, args...))
}

// measure takes every figure of one database.
func measure(ctx context.Context, cfg config, dir string, db database, log io.Writer) (result, error) {
	res := &result{}
	file, used, how, err := diskUse(ctx, db.path)
	if err != nil {
		return *res, err
	}
	// What seeding left in this process goes back to the system first:
	// the figures are those of a server started on the database.
	atRest()
	trimHeap()
	st, err := store.Open(ctx, db.path)
	if err != nil {
		return *res, err
	}
	defer st.Close()
	if res.keys, err = countKeys(ctx, st); err != nil {
		return *res, err
	}
	if db.seeded > 0 {
		res.add(fmt.Sprintf("seed: %s organizations and the keys, until the store is closed (s)", thousands(cfg.orgs)), seedBudget, db.seeded.Seconds())
	}
	res.add("database file (MB)", fileBudget, megabytes(file))
	res.add("database pages in use (MB)", noBudget("MB"), megabytes(used))
	res.note("pages in use by %s; %s bytes of file per key", how, thousands(int(file/int64(max(res.keys, 1)))))

	password, err := addUsers(ctx, st)
	if err != nil {
		return *res, err
	}
	if err := addRareKeys(ctx, st); err != nil {
		return *res, err
	}
	b := &sizeBench{cfg: cfg, st: st, res: res, log: log, start: time.Now()}
	if b.orgs, err = pickOrgs(ctx, st); err != nil {
		return *res, err
	}
	res.note("%s organizations under the root", thousands(b.orgs.count-1))
	if b.orgs.haveLarge {
		res.note("org=large subtree: %s, %s keys at it and below", b.orgs.large.Path, thousands(b.orgs.largeKeys))
	}
	if b.orgs.haveSmallLeaf {
		res.note("org=small leaf: %s, %s keys", b.orgs.small.Path, thousands(b.orgs.smallKeys))
	}
	if b.con, err = startConsole(ctx, st); err != nil {
		return *res, err
	}
	defer b.con.close()
	if b.admin, err = logIn(ctx, b.con, benchUser, password); err != nil {
		return *res, err
	}
	if err := b.memoryAtRest(ctx, db.path, password); err != nil {
		return *res, err
	}
	for _, step := range []func(context.Context) error{b.keyList, b.deepPages, b.shortSearches, b.events, b.exportCSV, b.managementAPI} {
		if err := step(ctx); err != nil {
			return *res, err
		}
	}
	if cfg.bulk == 0 {
		return *res, nil
	}
	if db.temporary {
		return *res, b.bulk(ctx, password)
	}
	if postgres.IsURL(db.path) {
		res.note("no bulk actions: they change the database, and one on PostgreSQL is not copied; seed one with -postgres, without -keep")
		return *res, nil
	}
	copyPath := filepath.Join(dir, fmt.Sprintf("bulk-copy-%d.db", res.keys))
	copied, err := b.onCopy(ctx, copyPath, password)
	if err != nil {
		return *res, err
	}
	defer removeDatabase(copyPath)
	defer copied.st.Close()
	defer copied.con.close()
	return *res, copied.bulk(ctx, password)
}

// onCopy returns the bench over a copy of the database, served and logged
// in to, for what changes the data.
func (b *sizeBench) onCopy(ctx context.Context, path, password string) (*sizeBench, error) {
	b.progress("copying the database for the bulk actions")
	if err := b.st.Backup(ctx, path); err != nil {
		return nil, err
	}
	c := *b
	var err error
	if c.st, err = store.Open(ctx, path); err != nil {
		return nil, err
	}
	if c.con, err = startConsole(ctx, c.st); err == nil {
		c.admin, err = logIn(ctx, c.con, benchUser, password)
	}
	if err != nil {
		c.st.Close()
		return nil, err
	}
	return &c, nil
}

// exportCSV downloads the CSV of every key and watches how much the
// process's resident memory grows meanwhile.
func (b *sizeBench) exportCSV(ctx context.Context) error {
	b.progress("CSV of every key")
	atRest()
	before, merr := readMemory()
	resetPeak()
	stop := sampleMemory(5 * time.Millisecond)
	s, err := b.admin.get(ctx, "/keys/export.csv", false)
	top := stop()
	if err != nil {
		return err
	}
	b.res.add("CSV of every key: wall time (s)", csvTimeBudget, s.wall.Seconds())
	if merr != nil {
		b.res.note("%v", merr)
	} else {
		b.res.add("CSV of every key: resident memory growth (MB)", csvMemoryBudget, megabytes(max(0, top-before.rss)))
	}
	b.res.note("the CSV of every key: %s MB before compression, %s s on the server", number(megabytes(s.bytes), "MB"), number(s.server.Seconds(), "s"))
	return nil
}
