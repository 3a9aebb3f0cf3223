package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// seedActor is who seeded keys were created by, in their events.
var seedActor = SystemActor("seed")

// Words that seeded key names are made of.
var (
	seedServices = []string{"billing", "checkout", "payments", "search", "analytics", "reporting", "notify",
		"support", "crm", "inventory", "shipping", "webhooks", "mobile-app", "web-app", "partner-api",
		"chatbot", "voice-gateway", "sms", "email", "sso", "audit", "export", "sync", "ledger", "fraud"}
	seedEnvs     = []string{"prod", "staging", "dev", "test", "sandbox"}
	seedRegions  = []string{"eu", "us", "apac", "uk", "ca"}
	seedCreators = []string{"admin", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"}
)

// SeedKeys creates n demo keys with varied names, permissions, states,
// expiry dates and creators, for demos and benchmarks, spread over orgs (the
// root when there are none), each with its key.created event. Their
// secrets are thrown away.
//
// It makes a million keys in under a minute: the keys are made in a
// goroutine beside the writes, their names checked against a set in
// memory; the writer connection gets a large page cache meanwhile; the
// keys' permissions, events and search entries are each written in one
// statement from the keys' rows. When the seed is at least as big as what
// a table holds, that table's indexes are dropped and built again once
// its rows are in, all in one transaction: building an index from sorted
// rows is much faster than adding to it in random order, and packs its
// pages. Otherwise it writes in batches, one transaction each.
func (s *Store) SeedKeys(ctx context.Context, n int, rng *rand.Rand, orgs ...Org) error {
	perms, err := s.Permissions(ctx)
	if err != nil {
		return err
	}
	if len(perms) == 0 {
		return fmt.Errorf("store: seed: the permission catalog is empty")
	}
	conn, done, err := s.db.WriterWithCache(ctx, seedCacheKiB)
	if err != nil {
		return err
	}
	defer done()

	var spread []int64
	for _, o := range orgs {
		spread = append(spread, o.rowID)
	}
	taken, err := takenKeyNames(ctx, conn, append([]int64{RootOrg}, spread...))
	if err != nil {
		return fmt.Errorf("store: seed: %w", err)
	}
	rebuild, err := tablesToRebuild(ctx, conn, n)
	if err != nil {
		return fmt.Errorf("store: seed: %w", err)
	}

	genCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // rng is the generator's until it returns
	defer cancel()
	rows := make(chan seedChunk, 16)
	now := s.now()
	wg.Go(func() {
		defer close(rows)
		generateSeedRows(genCtx, rows, n, rng, now, perms, spread, taken)
	})

	batch := 50_000
	if len(rebuild) > 0 {
		batch = n // the indexes come back in the transaction that dropped them
	}
	for done := 0; done < n; {
		size := min(batch, n-done)
		if err := s.writeSeedRows(ctx, conn, rows, size, now, rebuild); err != nil {
			return fmt.Errorf("store: seed: %w", err)
		}
		done += size
	}
	return nil
}

// seedChunk is a run of seeded keys, each as insertKeyArgs's values, and
// the words of their search entries that no chunk before had.
type seedChunk struct {
	rows  [][]any
	words []string
}

// generateSeedRows makes n seeded keys, spread over orgs (the root when
// there are none), and sends them in chunks until ctx ends. Names are
// unique within their organization: taken holds the names there already,
// and gets the new ones. The few thousand distinct words of a million
// keys are gathered here, beside the writes, rather than read back from
// every key's search entry.
func generateSeedRows(ctx context.Context, out chan<- seedChunk, n int, rng *rand.Rand, now time.Time,
	perms []Permission, orgs []int64, taken map[orgKeyName]bool) {
	used := map[string]int{}
	seen := map[string]bool{}
	chunk := seedChunk{rows: make([][]any, 0, 1000)}
	for i := range n {
		org := RootOrg
		if len(orgs) > 0 {
			org = orgs[rng.IntN(len(orgs))]
		}
		k := seedKey(rng, now, perms, used, i)
		for taken[orgKeyName{org, foldName(k.Name)}] {
			k = seedKey(rng, now, perms, used, i)
		}
		taken[orgKeyName{org, foldName(k.Name)}] = true
		k.orgRow = org
		secret := NewSecret()
		k.Hint = secretHint(secret)
		chunk.rows = append(chunk.rows, insertKeyArgs(&k, HashSecret(secret)))
		for _, w := range strings.Fields(keyWords(k.Name, k.CreatedBy)) {
			if !seen[w] {
				seen[w] = true
				chunk.words = append(chunk.words, w)
			}
		}
		if len(chunk.rows) == cap(chunk.rows) || i == n-1 {
			select {
			case out <- chunk:
			case <-ctx.Done():
				return
			}
			chunk = seedChunk{rows: make([][]any, 0, 1000)}
		}
	}
}

// orgKeyName is a key's name, folded, in its organization: what must be
// unique.
type orgKeyName struct {
	org  int64
	name string
}

// takenKeyNames returns the names of the keys in orgs.
func takenKeyNames(ctx context.Context, conn *sql.Conn, orgs []int64) (map[orgKeyName]bool, error) {
	in := map[int64]bool{}
	for _, o := range orgs {
		in[o] = true
	}
	taken := map[orgKeyName]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT org_id, name_fold FROM keys`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k orgKeyName
		if err := rows.Scan(&k.org, &k.name); err != nil {
			return nil, err
		}
		if in[k.org] {
			taken[k] = true
		}
	}
	return taken, rows.Err()
}

// tablesToRebuild returns the tables that hold no more rows than a seed of
// n adds, whose indexes it builds again rather than adds to.
func tablesToRebuild(ctx context.Context, conn *sql.Conn, n int) ([]string, error) {
	var keys, events int
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM events)`).Scan(&keys, &events); err != nil {
		return nil, err
	}
	var tables []string
	if keys <= n {
		tables = append(tables, "keys", "key_permissions")
	}
	if events <= n {
		tables = append(tables, "events")
	}
	return tables, nil
}

// writeSeedRows writes the next size keys in one transaction, then their
// permissions, their key.created events and the search entries of both,
// each in one statement from the keys' rows. The indexes of the rebuild
// tables are dropped first and made again last.
func (s *Store) writeSeedRows(ctx context.Context, conn *sql.Conn, rows <-chan seedChunk, size int, now time.Time, rebuild []string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.db.LockWrites(ctx, tx); err != nil {
		return err
	}
	var lastKey, lastEvent int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT max(id) FROM keys), 0), coalesce((SELECT max(id) FROM events), 0)`).Scan(&lastKey, &lastEvent); err != nil {
		return err
	}
	mark, err := markEvents(ctx, tx)
	if err != nil {
		return err
	}
	indexes, err := s.dropIndexes(ctx, tx, rebuild)
	if err != nil {
		return err
	}
	// Keys go seedBatch to a statement: on PostgreSQL each statement is
	// a trip to the server. A statement's rows take their ids in order.
	insert, err := tx.PrepareContext(ctx, insertKeysSQL(seedBatch))
	if err != nil {
		return err
	}
	defer insert.Close()
	var (
		words   []string
		pending []any
	)
	for written := 0; written < size; {
		var chunk seedChunk
		select {
		case chunk = <-rows:
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, row := range chunk.rows {
			if pending = append(pending, row...); len(pending) == seedBatch*keyColumnsWritten {
				if _, err := insert.ExecContext(ctx, pending...); err != nil {
					return err
				}
				pending = pending[:0]
			}
		}
		written += len(chunk.rows)
		words = append(words, chunk.words...)
	}
	if n := len(pending) / keyColumnsWritten; n > 0 {
		if _, err := tx.ExecContext(ctx, insertKeysSQL(n), pending...); err != nil {
			return err
		}
	}
	// keys.permissions lists them, space-separated: names have no spaces.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO key_permissions (key_id, permission_id)
		SELECT k.id, p.id FROM keys k JOIN permissions p ON `+s.db.Contains("' ' || k.permissions || ' '", "' ' || p.name || ' '")+`
		WHERE k.id > ? ORDER BY k.id, p.id`, lastKey); err != nil {
		return err
	}
	// The event logEvent writes for the key, its details as encoding/json
	// writes them; the seeded key's time is its creation. Permission names
	// need no escaping in JSON, and keys.permissions holds them sorted.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO events (at, actor_username, action, target_type, target_id, target_name, details, org_id)
		SELECT ?, ?, ?, ?, k.public_id, k.name,
			'{"permissions":["' || replace(k.permissions, ' ', '","') || '"],"seeded":true}',
			k.org_id
		FROM keys k WHERE k.id > ? ORDER BY k.id`,
		now.Unix(), seedActor.Username, ActionKeyCreated, TargetKey, lastKey); err != nil {
		return err
	}
	if err := s.text.addSeeded(ctx, tx, lastKey, lastEvent, words); err != nil {
		return err
	}
	for _, index := range indexes {
		if _, err := tx.ExecContext(ctx, index); err != nil {
			return err
		}
	}
	if err := keepEventOrder(ctx, tx, mark); err != nil {
		return err
	}
	return tx.Commit()
}

// seedBatch is how many keys one statement of the seeding writes: on
// PostgreSQL, 100,000 keys took 17 s one at a time and 9 s fifty at a
// time (500 at a time gained nothing more); SQLite's time stays about
// the same.
const seedBatch = 50

// keyColumnsWritten is how many values insertKeySQL writes a key with.
var keyColumnsWritten = strings.Count(insertKeySQL, "?")

// insertKeysSQL is insertKeySQL for n keys at once.
func insertKeysSQL(n int) string {
	values := insertKeySQL[strings.LastIndex(insertKeySQL, "("):]
	return insertKeySQL + strings.Repeat(", "+values, n-1)
}

// dropIndexes drops the indexes of tables that can be made again (not
// those of UNIQUE and PRIMARY KEY constraints) and returns the statements
// that make them.
func (s *Store) dropIndexes(ctx context.Context, tx *sql.Tx, tables []string) ([]string, error) {
	var indexes, names []string
	for _, table := range tables {
		err := eachRow(ctx, tx, func(r rowScanner) ([2]string, error) {
			var v [2]string
			err := r.Scan(&v[0], &v[1])
			return v, err
		}, func(v [2]string) error {
			names, indexes = append(names, v[0]), append(indexes, v[1])
			return nil
		}, s.db.IndexesOf(), table)
		if err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			return nil, err
		}
	}
	return indexes, nil
}

func seedKey(rng *rand.Rand, now time.Time, perms []Permission, used map[string]int, i int) Key {
	name := fmt.Sprintf("%s-%s-%s", pick(rng, seedServices), pick(rng, seedEnvs), pick(rng, seedRegions))
	if used[name]++; used[name] > 1 {
		name = fmt.Sprintf("%s-%d", name, used[name])
	}
	var kp []string
	for _, p := range perms {
		if rng.IntN(3) > 0 {
			kp = append(kp, p.Name)
		}
	}
	if len(kp) == 0 {
		kp = []string{perms[i%len(perms)].Name}
	}
	created := now.Add(-time.Duration(1 + rng.Int64N(int64(2*365*24*time.Hour)))).Truncate(time.Second)
	// Later moments of a key's life fall between its creation and now.
	since := func() time.Time {
		return created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)/time.Second)+1)) * time.Second)
	}
	creator := pick(rng, seedCreators)
	k := Key{
		ID: newPublicID(), Name: name, Permissions: kp, Enabled: rng.IntN(100) >= 8,
		Capacity: []int{60, 120, 120, 120, 600, 1200}[rng.IntN(6)], Frequency: []int{60, 60, 60, 1, 3600}[rng.IntN(5)],
		CreatedAt: created, CreatedBy: creator, UpdatedAt: created, UpdatedBy: creator,
	}
	switch r := rng.IntN(100); {
	case r < 55: // never expires
	case r < 70: // expires within 30 days: soon unavailable
		k.ExpiresAt = now.Add(time.Duration(1+rng.Int64N(30*24)) * time.Hour)
	case r < 88: // expires later
		k.ExpiresAt = now.Add(time.Duration(31*24+rng.Int64N(365*24)) * time.Hour)
	default: // expired, at some second between its creation and now
		k.ExpiresAt = since()
	}
	if !k.ExpiresAt.IsZero() {
		k.ExpirySetAt, k.ExpirySetBy = created, creator
	}
	if rng.IntN(100) < 6 {
		k.RevokedAt, k.RevokedBy = since(), pick(rng, seedCreators)
	}
	if rng.IntN(100) < 75 {
		k.LastUsedAt = since()
		k.UseCount = 1 + rng.Int64N(250_000)
	}
	return k
}

// seedOrgNames are what seeded organizations are called, with a number.
var seedOrgNames = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "wonka"}

// SeedOrgs creates n demo organizations in a tree at most four levels
// below the root, and returns them with the root first.
func (s *Store) SeedOrgs(ctx context.Context, n int, rng *rand.Rand) ([]Org, error) {
	orgs, err := s.Orgs(ctx, Scope{})
	if err != nil {
		return nil, err
	}
	all := orgs[:1] // the root
	for i := range n {
		parent := all[rng.IntN(len(all))]
		for parent.Depth >= 4 {
			parent = all[rng.IntN(len(all))]
		}
		o, err := s.CreateOrg(ctx, SystemActor("seed"), fmt.Sprintf("%s-%d", pick(rng, seedOrgNames), i+1), parent.ID)
		if err != nil {
			return nil, fmt.Errorf("store: seed organizations: %w", err)
		}
		all = append(all, o)
	}
	return all, nil
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }
