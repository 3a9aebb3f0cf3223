package store

import (
	"context"
	"database/sql"
)

// Permission is an entry of the catalog that keys take their permissions from.
type Permission struct {
	Name        string
	Description string
}

// Permissions returns the catalog, sorted by name.
func (s *Store) Permissions(ctx context.Context) ([]Permission, error) {
	return readValue(ctx, s, func(tx *sql.Tx) ([]Permission, error) {
		return allRows(ctx, tx, func(r rowScanner) (Permission, error) {
			var p Permission
			err := r.Scan(&p.Name, &p.Description)
			return p, err
		}, `SELECT name, description FROM permissions ORDER BY name`)
	})
}
