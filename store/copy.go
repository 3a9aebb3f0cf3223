package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// copyTables are the tables an installation is, each after those it
// refers to. The searches' own tables are not among them: the copy builds
// them from its rows (see CopyTo).
var copyTables = []string{
	"settings", "organizations", "permissions", "roles", "role_rights", "users",
	"keys", "key_permissions", "previous_secrets", "key_schedules", "kept_secrets",
	"events", "event_order", "login_failures", "jobs", "notice_optouts", "notices", "notice_mail",
	"webhooks", "webhook_deliveries", "calendar_feeds",
	"key_usage_hourly", "key_usage_daily", "org_refusals_hourly", "org_refusals_daily", "usage_spikes",
	"access_tokens", "idempotent_answers",
}

// engineOnly are the columns one engine has and the other does not:
// PostgreSQL's words of each event, which the copy computes.
var engineOnly = map[string]bool{"events.terms": true}

// copyOrder is the order a table's rows are copied in: an organization
// after its parent, whose path is shorter, whatever their ids.
var copyOrder = map[string]string{"organizations": " ORDER BY length(path), id"}

// TableCount is how many rows a table holds.
type TableCount struct {
	Table string
	Rows  int
}

// CopyTo copies the whole installation in s (keys with their secrets'
// hashes and kept ciphertexts, users, roles, organizations, the audit log,
// settings, usage, notices, webhooks, tokens) to dst, another database on
// either engine, which must hold no user, key or event yet: what its
// migrations made (the root organization, the built-in roles) gives way
// to the copy's. It reads one snapshot of s and writes dst in one
// transaction, builds dst's search indexes from the copied rows, then
// counts every table on both sides and fails unless they agree. No server
// may run on s meanwhile: what it wrote after the snapshot would be lost.
func (s *Store) CopyTo(ctx context.Context, dst *Store) ([]TableCount, error) {
	for _, table := range []string{"users", "keys", "events"} {
		var n int
		if err := dst.reader.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("copy: %s already holds %s: copy into a new database", dst.Path(), countText(n, strings.TrimSuffix(table, "s"), table))
		}
	}
	err := s.read(ctx, func(from *sql.Tx) error {
		return dst.write(ctx, func(to *sql.Tx, _ time.Time) error {
			for _, table := range slices.Backward(copyTables) {
				if _, err := to.ExecContext(ctx, `DELETE FROM `+table); err != nil {
					return err
				}
			}
			for _, table := range copyTables {
				if err := copyTable(ctx, from, to, dst.db, table); err != nil {
					return fmt.Errorf("copy %s: %w", table, err)
				}
			}
			if err := dst.db.ResetIDs(ctx, to); err != nil {
				return err
			}
			return dst.indexCopy(ctx, to)
		})
	})
	if err != nil {
		return nil, err
	}
	return s.compareCounts(ctx, dst)
}

// copyTable copies one table's rows, in the columns both engines' tables
// have (PostgreSQL's events keep their words besides) that the copy's
// database does not compute.
func copyTable(ctx context.Context, from, to *sql.Tx, db engine, table string) error {
	theirs, err := allRows(ctx, to, func(r rowScanner) (string, error) {
		var name string
		return name, r.Scan(&name)
	}, db.WrittenColumns(), table)
	if err != nil {
		return err
	}
	all, err := to.QueryContext(ctx, `SELECT * FROM `+table+` WHERE FALSE`)
	if err != nil {
		return err
	}
	known, err := all.Columns() // the computed ones too
	all.Close()
	if err != nil {
		return err
	}
	rows, err := from.QueryContext(ctx, `SELECT * FROM `+table+copyOrder[table])
	if err != nil {
		return err
	}
	defer rows.Close()
	ours, err := rows.Columns()
	if err != nil {
		return err
	}
	var columns []string
	var keep []int // which of ours to write
	for i, c := range ours {
		switch {
		case slices.Contains(theirs, c):
			columns, keep = append(columns, c), append(keep, i)
		case !slices.Contains(known, c) && !engineOnly[table+"."+c]:
			return fmt.Errorf("the copy has no column %s: is it a newer version's database?", c)
		}
	}
	if len(columns) == 0 {
		return fmt.Errorf("the copy has none of its columns")
	}
	insert, err := to.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(columns, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(columns)-1)+`)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	values := make([]any, len(ours))
	dest := make([]any, len(ours))
	for i := range values {
		dest[i] = &values[i]
	}
	args := make([]any, len(keep))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, k := range keep {
			args[i] = values[k]
		}
		if _, err := insert.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// indexCopy builds the search indexes of copied keys and events, as a
// seed does for its own.
func (s *Store) indexCopy(ctx context.Context, tx *sql.Tx) error {
	seen := map[string]bool{}
	var words []string
	err := eachRow(ctx, tx, func(r rowScanner) (string, error) {
		var name, creator string
		err := r.Scan(&name, &creator)
		return keyWords(name, creator), err
	}, func(text string) error {
		for _, w := range strings.Fields(text) {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
		return nil
	}, `SELECT name, created_by FROM keys`)
	if err != nil {
		return err
	}
	return s.text.addSeeded(ctx, tx, 0, 0, words)
}

// compareCounts counts every copied table in s and dst, and fails unless
// each holds as many rows in both.
func (s *Store) compareCounts(ctx context.Context, dst *Store) ([]TableCount, error) {
	var counts []TableCount
	var differ []string
	for _, table := range copyTables {
		var ours, theirs int
		if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&ours); err != nil {
			return nil, err
		}
		if err := dst.reader.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&theirs); err != nil {
			return nil, err
		}
		counts = append(counts, TableCount{Table: table, Rows: theirs})
		if ours != theirs {
			differ = append(differ, fmt.Sprintf("%s: %d rows, %d in the copy", table, ours, theirs))
		}
	}
	if len(differ) > 0 {
		return counts, fmt.Errorf("copy: the counts differ: %s", strings.Join(differ, "; "))
	}
	return counts, nil
}
