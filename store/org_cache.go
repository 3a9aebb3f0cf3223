package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// orgCache maps organizations' public ids to their ids paths, so that a
// verification that names an organization reads no database. It is
// filled on first use and thrown away whenever organizations change (here
// or, through ReloadIfChanged, in another process).
type orgCache struct {
	byID atomic.Pointer[map[string]string]
	fill sync.Mutex
	load func() (map[string]string, error)
	gen  atomic.Uint64 // moves on at every drop, so a load cannot undo one
}

// ids returns the ids path of the organization with a public id.
func (c *orgCache) ids(id string) (string, bool) {
	m := c.byID.Load()
	if m == nil {
		var err error
		if m, err = c.refill(); err != nil {
			return "", false
		}
	}
	ids, ok := (*m)[id]
	return ids, ok
}

func (c *orgCache) refill() (*map[string]string, error) {
	c.fill.Lock()
	defer c.fill.Unlock()
	if m := c.byID.Load(); m != nil {
		return m, nil
	}
	gen := c.gen.Load()
	m, err := c.load()
	if err != nil {
		return nil, err
	}
	if c.gen.Load() == gen {
		c.byID.Store(&m)
	}
	return &m, nil
}

// drop forgets the organizations, after a change to them.
func (c *orgCache) drop() {
	c.gen.Add(1)
	c.byID.Store(nil)
}

// loadOrgIDs reads every organization's public id and ids path.
func (s *Store) loadOrgIDs() (map[string]string, error) {
	m := map[string]string{}
	err := s.read(context.Background(), func(tx *sql.Tx) error {
		return eachRow(context.Background(), tx, func(r rowScanner) ([2]string, error) {
			var v [2]string
			err := r.Scan(&v[0], &v[1])
			return v, err
		}, func(v [2]string) error { m[v[0]] = v[1]; return nil }, `SELECT public_id, path FROM organizations`)
	})
	return m, err
}
