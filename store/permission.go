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
	var perms []Permission
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, description FROM permissions ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p Permission
			if err := rows.Scan(&p.Name, &p.Description); err != nil {
				return err
			}
			perms = append(perms, p)
		}
		return rows.Err()
	})
	return perms, err
}
