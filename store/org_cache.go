package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// orgInfo is what verification needs of an organization.
type orgInfo struct {
	row  int64
	id   string // public id
	name string
	ids  string // ids path: a key here serves this path and every one below
	off  bool   // API keys are switched off here or above
}

// orgIndex is every organization, by public id and by row id.
type orgIndex struct {
	byID  map[string]*orgInfo
	byRow map[int64]*orgInfo
	tree  []Org     // every organization in tree order, for menus
	read  time.Time // when its reading began
}

// orgCache keeps every organization in memory, so that a verification reads
// no organization from the database. It is filled on first use and thrown
// away whenever organizations change (here or, through ReloadIfChanged, in
// another process).
type orgCache struct {
	index atomic.Pointer[orgIndex]
	fill  sync.Mutex
	load  func() (*orgIndex, error)
	gen   atomic.Uint64 // moves on at every drop, so a load cannot undo one
}

// get returns the index, loading it if it was dropped.
func (c *orgCache) get() (*orgIndex, error) {
	if x := c.index.Load(); x != nil {
		return x, nil
	}
	c.fill.Lock()
	defer c.fill.Unlock()
	if x := c.index.Load(); x != nil {
		return x, nil
	}
	gen := c.gen.Load()
	x, err := c.load()
	if err != nil {
		return nil, err
	}
	if c.gen.Load() == gen {
		c.index.Store(x)
	}
	return x, nil
}

// drop forgets the organizations, after a change to them.
func (c *orgCache) drop() {
	c.gen.Add(1)
	c.index.Store(nil)
}

// dropIfReadBefore forgets the organizations if they were read before t.
func (c *orgCache) dropIfReadBefore(t time.Time) {
	if x := c.index.Load(); x != nil && x.read.Before(t) {
		c.drop()
	}
}

// loadOrgIndex reads every organization, parents before children.
func (s *Store) loadOrgIndex() (*orgIndex, error) {
	x := &orgIndex{byID: map[string]*orgInfo{}, byRow: map[int64]*orgInfo{}, read: time.Now()}
	ctx := context.Background()
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if x.tree, err = orgTree(ctx, tx, Scope{}); err != nil {
			return err
		}
		return eachRow(ctx, tx, func(r rowScanner) (orgInfo, error) {
			var o orgInfo
			var enabled bool
			err := r.Scan(&o.id, &o.name, &o.ids, &enabled)
			o.off = !enabled
			return o, err
		}, func(o orgInfo) error {
			ids := strings.Split(strings.Trim(o.ids, "/"), "/")
			row, err := strconv.ParseInt(ids[len(ids)-1], 10, 64)
			if err != nil {
				return err
			}
			if len(ids) > 1 {
				if parent, err := strconv.ParseInt(ids[len(ids)-2], 10, 64); err == nil && x.byRow[parent] != nil {
					o.off = o.off || x.byRow[parent].off
				}
			}
			o.row = row
			x.byID[o.id], x.byRow[row] = &o, &o
			return nil
		}, `SELECT public_id, name, path, api_keys_enabled FROM organizations ORDER BY path`)
	})
	return x, err
}

// RootOrgID is the public id of the root organization.
func (s *Store) RootOrgID(ctx context.Context) (string, error) {
	x, err := s.orgs.get()
	if err != nil {
		return "", err
	}
	return x.byRow[RootOrg].id, nil
}
