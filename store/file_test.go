package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/keydesk/keydesk/store/sqlite"
)

func TestOpenRefusesADatabaseFromANewerKeydesk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreateKey(t, s, NewKey{Name: "kept"})
	var version int
	if err := s.writer.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	// A newer Keydesk migrated it one step further.
	if _, err := s.writer.Exec("PRAGMA user_version = " + strconv.Itoa(version+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "made by a newer Keydesk") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer database: %v", err)
	}
}

func TestOpenExistingNeverCreatesADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	_, err := OpenExisting(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "no database at "+path) {
		t.Fatalf("OpenExisting of a missing file: %v", err)
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Fatalf("the missing file was created: %v", statErr)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenExisting of a database that exists: %v", err)
	}
	s.Close()
}

func TestOpenNamesTheRealProblem(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, path, want string
	}{
		{"missing folder", filepath.Join(dir, "nowhere", "k.db"), "the folder " + filepath.Join(dir, "nowhere") + " does not exist"},
		{"a folder", dir, "it is a folder, not a file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(context.Background(), c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "no such file or directory") {
				t.Fatalf("Open(%s) = %v, want %q", c.path, err, c.want)
			}
		})
	}
	t.Run("not a database", func(t *testing.T) {
		path := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 500)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a database") {
			t.Fatalf("Open of a text file = %v", err)
		}
	})
	t.Run("read-only file system", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("mounting a read-only file system needs root; CI runs as root")
		}
		mnt := t.TempDir()
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
			t.Fatalf("mount a read-only tmpfs: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(mnt, 0) })
		_, err := Open(context.Background(), filepath.Join(mnt, "k.db"))
		if err == nil || !strings.Contains(err.Error(), "read-only file system") {
			t.Fatalf("Open on a read-only mount = %v", err)
		}
	})
}

func TestASecondServerCannotLockTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db")
	first, err := LockServer(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockServer(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v, want a refusal naming the file and the process", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := LockServer(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Release()
}

func TestChangesFromAnotherProcessReachTheCache(t *testing.T) {
	sqliteOnly(t, "the data version of the file")
	ctx := context.Background()
	server, _ := newTestStore(t)
	k, secret := mustCreateKey(t, server, NewKey{Name: "svc", Enabled: true})
	if v, _ := server.VerifyKey(ctx, secret, "", ""); !v.Valid {
		t.Fatalf("fresh key: %+v", v)
	}
	// The server's own writes are no news to it: the cache stays.
	mustCreateKey(t, server, NewKey{Name: "other"})
	if changed, err := server.ReloadIfChanged(ctx); err != nil || changed {
		t.Fatalf("after its own write: changed = %v, %v", changed, err)
	}

	// A command run beside the server opens the same file and revokes the key.
	cli, err := OpenExisting(ctx, server.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cli.Now = server.Now
	if _, err := cli.RevokeKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if v, _ := server.VerifyKey(ctx, secret, "", ""); !v.Valid {
		t.Fatalf("before the server looked: %+v (the cache should still hold the key, or this test proves nothing)", v)
	}
	if changed, err := server.ReloadIfChanged(ctx); err != nil || !changed {
		t.Fatalf("after the command's write: changed = %v, %v", changed, err)
	}
	if v, _ := server.VerifyKey(ctx, secret, "", ""); v.Valid || v.Code != CodeRevoked {
		t.Fatalf("revoked from the command line: %+v", v)
	}
}

// TestADatabaseFromTheFirstReleaseUpgradesInPlace builds a database with
// the first three migrations only, as the first release left it, and opens
// it: the new migrations fill in what they add for the keys already there.
func TestADatabaseFromTheFirstReleaseUpgradesInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open(DriverName, "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"001_init.sql", "002_logins.sql", "003_event_search.sql"} {
		body, err := fs.ReadFile(sqlite.Migrations(), name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for i, name := range []string{"apac-100", "apac-9", "APAC-10"} {
		_, err := db.Exec(`INSERT INTO keys (public_id, name, name_fold, permissions, secret_hash, hint, enabled,
			created_at, created_by, updated_at, updated_by) VALUES (?, ?, lower(?), 'chat', ?, 'kd_x…y', 1, 0, 'old', 0, 'old')`,
			"id"+strconv.Itoa(i), name, name, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	s := upgrade(t, db, path, 3)
	page, err := s.Keys(context.Background(), Scope{}, KeyQuery{Sort: SortName})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range page.Keys {
		got = append(got, k.Name)
	}
	if strings.Join(got, " ") != "apac-9 APAC-10 apac-100" {
		t.Fatalf("upgraded keys in name order: %q", got)
	}
}

func TestALinkToTheDatabaseSharesItsLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keydesk.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	first, err := LockServer(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	if _, err := LockServer(link); err == nil {
		t.Fatal("a server on a link to the database got the lock")
	}
}

// TestADatabaseOfVersion5UpgradesInPlace builds a database as Keydesk left
// it before its indexes got smaller (search indexes with a copy of their
// text, names sorted by digit runs padded to 20) and opens it: the keys
// sort and search as before, and the search indexes keep up with changes.
func TestADatabaseOfVersion5UpgradesInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open(DriverName, "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"001_init.sql", "002_logins.sql", "003_event_search.sql", "004_natural_name_order.sql", "005_organizations.sql"} {
		body, err := fs.ReadFile(sqlite.Migrations(), name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	names := []string{"apac-100", "apac-9", "APAC-10", "billing-prod-eu", "z-123456789012345678901234"}
	for i, name := range names {
		id := "id" + strconv.Itoa(i)
		res, err := db.Exec(`INSERT INTO keys (public_id, name, name_fold, name_sort, permissions, secret_hash, hint, enabled,
			created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, 'chat', ?, 'kd_x…y', 1, 0, 'old', 0, 'old')`,
			id, name, foldName(name), paddedSortName(name), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		row, _ := res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO key_search (docid, terms) VALUES (?, ?)`, row, strings.ToLower(name+" old "+id)); err != nil { // what version 5 kept
			t.Fatal(err)
		}
		res, err = db.Exec(`INSERT INTO events (at, actor_username, action, target_type, target_id, target_name)
			VALUES (0, 'old', 'key.created', 'key', ?, ?)`, id, name)
		if err != nil {
			t.Fatal(err)
		}
		row, _ = res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO event_search (docid, terms) VALUES (?, ?)`, row,
			eventTerms("old", "key.created", "key", id, name, "")); err != nil {
			t.Fatal(err)
		}
	}
	s := upgrade(t, db, path, 5)
	ctx := context.Background()
	checkSearchIndexes(t, s)
	keyNames := func(q KeyQuery) string {
		t.Helper()
		page, err := s.Keys(ctx, Scope{}, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range page.Keys {
			got = append(got, k.Name)
		}
		return strings.Join(got, " ")
	}
	// A new key sorts among the old ones: their sort keys were rewritten.
	mustCreateKey(t, s, NewKey{Name: "apac-50"})
	if got, want := keyNames(KeyQuery{Sort: SortName}), "apac-9 APAC-10 apac-50 apac-100 billing-prod-eu z-123456789012345678901234"; got != want {
		t.Fatalf("upgraded keys in name order: %q, want %q", got, want)
	}
	if got := keyNames(KeyQuery{KeyFilter: KeyFilter{Search: "illin"}, Sort: SortName}); got != "billing-prod-eu" {
		t.Fatalf("search after the upgrade: %q", got)
	}
	if page, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Search: "apac"}}); err != nil || len(page.Events) != 4 {
		t.Fatalf("event search after the upgrade: %d events, %v", len(page.Events), err)
	}
	if _, err := s.RenameKey(ctx, testActor, "id3", "checkout-prod-eu"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteKey(ctx, testActor, "id0"); err != nil {
		t.Fatal(err)
	}
	checkSearchIndexes(t, s)
	if got := keyNames(KeyQuery{KeyFilter: KeyFilter{Search: "heck"}, Sort: SortName}); got != "checkout-prod-eu" {
		t.Fatalf("search after a rename: %q", got)
	}
	if got := keyNames(KeyQuery{KeyFilter: KeyFilter{Search: "illin"}, Sort: SortName}); got != "" {
		t.Fatalf("the old name still found: %q", got)
	}
}

// permissionsByName turns the permissions of keys back into what they
// were before migration 020: named, not by row.
const permissionsByName = `
CREATE TABLE permissions_by_name (name TEXT PRIMARY KEY, description TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO permissions_by_name SELECT name, description FROM permissions;
CREATE TABLE key_permissions_by_name (
    key_id INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    permission TEXT NOT NULL REFERENCES permissions_by_name (name),
    PRIMARY KEY (key_id, permission)
) WITHOUT ROWID;
INSERT INTO key_permissions_by_name SELECT kp.key_id, p.name FROM key_permissions kp JOIN permissions p ON p.id = kp.permission_id;
DROP TABLE key_permissions;
DROP TABLE permissions;
ALTER TABLE permissions_by_name RENAME TO permissions;
ALTER TABLE key_permissions_by_name RENAME TO key_permissions;
CREATE INDEX key_permissions_by_permission ON key_permissions (permission, key_id);`

// TestUpgradeNamesPermissionsByRow upgrades a database whose keys name
// their permissions: each key keeps its own, the filter by permission and
// the catalog's counts find the same keys, and a new key's permissions
// are written by row.
func TestUpgradeNamesPermissionsByRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "named.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []string{"voice", "nexus:cluster:*"} {
		if _, err := s.CreatePermission(ctx, testActor, Permission{Name: p, Description: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{}
	for i, perms := range [][]string{{"chat"}, {"chat", "voice"}, {"nexus:cluster:*"}, {"voice"}} {
		k, _ := mustCreateKey(t, s, NewKey{Name: fmt.Sprintf("key-%d", i), Permissions: perms})
		want[k.ID] = perms
	}
	s.Close()
	db, err := sql.Open(DriverName, "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(permissionsByName); err != nil {
		t.Fatal(err)
	}
	s = upgrade(t, db, path, 19)
	for id, perms := range want {
		if k, err := s.Key(ctx, Scope{}, id); err != nil || !slices.Equal(k.Permissions, perms) {
			t.Fatalf("key %s: %v, %v; want %v", id, k.Permissions, err, perms)
		}
	}
	for perm, n := range map[string]int{"chat": 2, "voice": 2, "nexus:cluster:admin": 1} {
		if page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Permission: perm}, Sort: SortName}); err != nil || page.Total != n {
			t.Fatalf("keys with %s: %d, %v; want %d", perm, page.Total, err, n)
		}
	}
	uses, err := s.PermissionUses(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range uses {
		if u.Name == "voice" && u.Keys != 2 {
			t.Fatalf("voice is counted on %d keys", u.Keys)
		}
	}
	k, _ := mustCreateKey(t, s, NewKey{Name: "after", Permissions: []string{"voice"}})
	if got, _ := s.Key(ctx, Scope{}, k.ID); !slices.Equal(got.Permissions, []string{"voice"}) {
		t.Fatalf("a key made after the upgrade: %v", got.Permissions)
	}
	if err := s.DeletePermission(ctx, testActor, "voice"); ErrorCode(err) != ECONFLICT {
		t.Fatalf("deleting a permission that keys hold: %v", err)
	}
}

// upgrade marks the database that db holds (at path) as at version, closes
// it and opens it with the store, which upgrades it.
func upgrade(t *testing.T, db *sql.DB, path string, version int) *Store {
	t.Helper()
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(version)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestADatabaseOfTheWithdrawnFoldRepairs opens a database as the build
// with the withdrawn migration 011 left it (most folded names empty, a unique
// index on an expression, the events' target index on two columns): the
// names get their folded form back, so that a name taken in another case
// is refused again, and the indexes are the plain ones.
func TestADatabaseOfTheWithdrawnFoldRepairs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "withdrawn.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustCreateKey(t, s, NewKey{Name: "billing"})
	mustCreateKey(t, s, NewKey{Name: "Checkout"})
	s.Close()
	db, err := sql.Open(DriverName, "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		// Back to version 11 of that build: without what came after it…
		permissionsByName,
		`DROP TABLE event_order`,
		`DROP TABLE idempotent_answers`,
		`DROP TABLE access_tokens`,
		`DROP INDEX keys_by_uses_24h`,
		`ALTER TABLE keys DROP COLUMN uses_24h`,
		`DROP TABLE usage_spikes`,
		`ALTER TABLE notices DROP COLUMN figure`,
		`ALTER TABLE notices DROP COLUMN usual`,
		`ALTER TABLE organizations DROP COLUMN spike_multiple`,
		`ALTER TABLE organizations DROP COLUMN spike_floor`,
		`DROP TABLE key_usage_hourly`,
		`DROP TABLE key_usage_daily`,
		`DROP TABLE org_refusals_hourly`,
		`DROP TABLE org_refusals_daily`,
		`ALTER TABLE organizations DROP COLUMN delete_after_days`,
		`ALTER TABLE organizations DROP COLUMN notice_days`,
		`DROP TABLE calendar_feeds`,
		`DROP TABLE webhook_deliveries`,
		`DROP TABLE webhooks`,
		`DROP TABLE jobs`,
		`DROP TABLE notice_mail`,
		`DROP TABLE notices`,
		`DROP TABLE notice_optouts`,
		`ALTER TABLE users DROP COLUMN email`,
		`DELETE FROM role_rights WHERE right_name = 'apikeys.reveal'`,
		`DROP TABLE key_schedules`,
		`DROP TABLE kept_secrets`,
		`ALTER TABLE organizations DROP COLUMN recoverable_keys`,
		`ALTER TABLE organizations DROP COLUMN rotate_every_days`,
		`ALTER TABLE organizations DROP COLUMN grace_days`,
		`DROP TABLE previous_secrets`,
		`ALTER TABLE keys DROP COLUMN rotated_at`,
		// …and with its folded names and indexes.
		`DROP INDEX keys_org_name`,
		`UPDATE keys SET name_fold = '' WHERE name_fold = name`,
		`CREATE UNIQUE INDEX keys_org_name ON keys (org_id, coalesce(nullif(name_fold, ''), name))`,
		`DROP INDEX events_by_target`,
		`CREATE INDEX events_by_target ON events (target_type, target_id)`,
		`PRAGMA user_version = 11`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var blank int
	if err := s.reader.QueryRow(`SELECT count(*) FROM keys WHERE name_fold != lower(name)`).Scan(&blank); err != nil || blank != 0 {
		t.Fatalf("%d keys without their folded name (%v)", blank, err)
	}
	for _, taken := range []string{"BILLING", "checkout"} {
		_, _, err := s.CreateKey(ctx, testActor, NewKey{Name: taken, Permissions: []string{"chat"}, Capacity: 1, Frequency: 1})
		wantCode(t, err, EINVALID)
	}
	var indexes string
	if err := s.reader.QueryRow(`SELECT group_concat(sql, '; ') FROM sqlite_schema WHERE name IN ('keys_org_name', 'events_by_target')`).Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(indexes, "coalesce") || strings.Contains(indexes, "target_type") {
		t.Fatalf("indexes after the repair: %s", indexes)
	}
}
