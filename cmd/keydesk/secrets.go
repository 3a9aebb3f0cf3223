package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/keydesk/keydesk/store"
)

// masterKeyFlag adds --master-key-file; empty is the database path with
// ".key" added, resolved by keyFile once the flags are parsed.
func (e env) masterKeyFlag(fs *flag.FlagSet) *string {
	return fs.String("master-key-file", e.getenv("KEYDESK_MASTER_KEY_FILE"),
		"file of the master key that encrypts recoverable secrets; default: the database path + .key (KEYDESK_MASTER_KEY_FILE). KEYDESK_MASTER_KEY, base64, takes precedence")
}

// keyFile is the master key file: the flag's, or beside a SQLite file.
// A PostgreSQL database has no such place, and its instances must share
// one key: there it is "", and the key must be given.
func keyFile(flagValue, db string) string {
	switch {
	case flagValue != "":
		return flagValue
	case store.IsPostgres(db):
		return ""
	}
	return db + ".key"
}

// useMasterKey gives the store its master key: KEYDESK_MASTER_KEY, or the
// key file, made on first use when the database keeps no secret yet. A
// key that is given but unreadable stops the program; a missing one does
// not: verification never needs it, and the server says loudly what it
// cannot do.
func (e env) useMasterKey(ctx context.Context, st *store.Store, path string, log *slog.Logger) error {
	sealed, err := st.SealedBy(ctx)
	if err != nil {
		return err
	}
	var m *store.MasterKey
	switch text := e.getenv("KEYDESK_MASTER_KEY"); {
	case text != "":
		if m, err = store.ParseMasterKey(text); err != nil {
			return fmt.Errorf("KEYDESK_MASTER_KEY: %w", err)
		}
	case path == "":
		log.Error("NO MASTER KEY: on PostgreSQL every instance needs the same master key: set KEYDESK_MASTER_KEY or --master-key-file on each. "+
			"Until then no secret can be kept or revealed, no key of a recoverable organization made and no scheduled rotation done. Verification works.",
			"kept_secrets", total(sealed))
		return nil
	default:
		m, _, err = store.ReadMasterKeyFile(path, false)
		if errors.Is(err, fs.ErrNotExist) && len(sealed) == 0 {
			// Nothing is kept yet: the file is made when a secret first is.
			st.SetMasterKey(func() (*store.MasterKey, error) {
				m, made, err := store.ReadMasterKeyFile(path, true)
				if made {
					log.Warn("created the master key file: back it up apart from the database; without it no kept secret can be shown again", "file", path, "master_key", m.ID())
				}
				return m, err
			})
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			log.Error("NO MASTER KEY: the database keeps secrets to show again, but the master key file is missing and KEYDESK_MASTER_KEY is not set; "+
				"no secret can be revealed, no key of a recoverable organization made and no scheduled rotation done until it is restored. Verification works.",
				"file", path, "kept_secrets", total(sealed))
			return nil
		}
		if err != nil {
			return err
		}
	}
	st.SetMasterKey(func() (*store.MasterKey, error) { return m, nil })
	delete(sealed, m.ID())
	if len(sealed) > 0 {
		ids := slices.Sorted(maps.Keys(sealed))
		log.Error("SOME KEPT SECRETS CANNOT BE SHOWN: they were encrypted under another master key than this server's; restore that key, or run keydesk rekey with it. Verification works.",
			"master_key", m.ID(), "other_master_keys", strings.Join(ids, ","), "kept_secrets", total(sealed))
	}
	return nil
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// rekey moves every kept secret to a new master key, with the server
// stopped: a running server would go on keeping secrets under the key it
// read at start. The new key is written beside the current one first
// (path + ".new"), the secrets are moved in one transaction, and only
// then does the new file take the current one's name, the current one
// kept as path + "." + its id + ".old". A rekey cut off anywhere can run
// again: before the move it starts over with the same new key, after it
// it only finishes the renaming.
func (e env) rekey(ctx context.Context, args []string) error {
	fs := e.flags("rekey")
	db := e.dbFlag(fs)
	keyPath := e.masterKeyFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	lock, err := store.LockServer(*db)
	if err != nil {
		return fmt.Errorf("stop the server before a rekey: %w", err)
	}
	defer lock.Release()
	path := keyFile(*keyPath, *db)
	newPath := path + ".new"
	fromEnv := e.getenv("KEYDESK_MASTER_KEY") != ""
	if path == "" {
		// PostgreSQL: no file beside the database, and no lock keeps the
		// instances off it while it runs.
		return errors.New("rekey on PostgreSQL: stop every instance, and give the master key file with --master-key-file")
	}
	if !fromEnv && !exists(path) && exists(newPath) {
		// Cut off between the two renames: the secrets have moved.
		if err := os.Rename(newPath, path); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Finished a rekey that was cut off: the new master key is in %s.\n", path)
		return nil
	}
	var old *store.MasterKey
	if fromEnv {
		old, err = store.ParseMasterKey(e.getenv("KEYDESK_MASTER_KEY"))
	} else {
		old, _, err = store.ReadMasterKeyFile(path, false)
	}
	if err != nil {
		return fmt.Errorf("the current master key: %w", err)
	}
	next, made, err := store.ReadMasterKeyFile(newPath, true)
	if err != nil {
		return fmt.Errorf("the new master key: %w", err)
	}
	if !made {
		fmt.Fprintf(e.stdout, "Resuming with the new master key already in %s.\n", newPath)
	}
	st, err := store.OpenExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Rekey(ctx, old, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Moved %d kept secrets from master key %s to %s.\n", n, old.ID(), next.ID())
	if fromEnv {
		fmt.Fprintf(e.stdout, "Set KEYDESK_MASTER_KEY to the content of %s, then delete the file, and start the server.\n", newPath)
		return nil
	}
	oldPath := path + "." + old.ID() + ".old"
	if err := os.Rename(path, oldPath); err != nil {
		return err
	}
	if err := os.Rename(newPath, path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "The new master key is in %s (the previous one in %s). Back it up apart from the database, then start the server.\n", path, oldPath)
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
