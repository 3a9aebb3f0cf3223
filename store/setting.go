package store

import (
	"context"
	"crypto/rand"
	"database/sql"
)

// SessionKeys returns the keys that sign and encrypt session cookies,
// generating them on first use. They live in the database so that a restart
// keeps people logged in.
func (s *Store) SessionKeys(ctx context.Context) (hashKey, blockKey []byte, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		for _, k := range []struct {
			name string
			size int
			dst  *[]byte
		}{{"session_hash_key", 64, &hashKey}, {"session_block_key", 32, &blockKey}} {
			fresh := make([]byte, k.size)
			rand.Read(fresh)
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, k.name, fresh); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, k.name).Scan(k.dst); err != nil {
				return err
			}
		}
		return nil
	})
	return hashKey, blockKey, err
}
