package store

import (
	"context"
	"sync"
)

// SoonNearest is how many of the keys about to expire ExpiringSoon names.
const SoonNearest = 5

// Soon is the keys of a scope that expire within SoonWindow and still
// work: how many (exact up to CountCap), and the nearest ones.
type Soon struct {
	Total   int
	More    bool // more than CountCap
	Nearest []Key
}

// soonCache keeps ExpiringSoon's answers per scope while nothing was
// written, within the same minute: the navigation shows the count on every
// page. Any write reads it anew, the usage flush every few seconds under
// traffic included, so a busy console pays one count per scope at that
// pace (about a millisecond at 100,000 keys), not one per page.
type soonCache struct {
	mu      sync.Mutex
	byScope map[string]soonEntry
}

type soonEntry struct {
	writes uint64 // the store's count of writes when it was read
	minute int64
	soon   Soon
}

// ExpiringSoon returns the keys of the scope about to expire: those the
// key list shows under Soon Unavailable, nearest first.
func (s *Store) ExpiringSoon(ctx context.Context, sc Scope) (Soon, error) {
	now := s.now()
	writes, minute := s.writes.Load(), now.Unix()/60
	s.soon.mu.Lock()
	e, ok := s.soon.byScope[sc.ids]
	s.soon.mu.Unlock()
	if ok && e.writes == writes && e.minute == minute {
		return e.soon, nil
	}
	page, err := s.Keys(ctx, sc, KeyQuery{KeyFilter: KeyFilter{Statuses: []StatusFilter{FilterSoon}}, Sort: SortExpires, Limit: SoonNearest})
	if err != nil {
		return Soon{}, err
	}
	soon := Soon{Total: page.Total, More: page.More, Nearest: page.Keys}
	s.soon.mu.Lock()
	if s.soon.byScope == nil || len(s.soon.byScope) > 10_000 {
		s.soon.byScope = map[string]soonEntry{}
	}
	s.soon.byScope[sc.ids] = soonEntry{writes: writes, minute: minute, soon: soon}
	s.soon.mu.Unlock()
	return soon, nil
}

// ExpiringSoonAt is ExpiringSoon for the organization with this public id
// and below, inside the scope; the whole scope when it is empty.
func (s *Store) ExpiringSoonAt(ctx context.Context, sc Scope, orgID string) (Soon, error) {
	if orgID == "" {
		return s.ExpiringSoon(ctx, sc)
	}
	o, err := s.Org(ctx, sc, orgID)
	if err != nil {
		return Soon{}, err
	}
	return s.ExpiringSoon(ctx, orgScope(o.ids))
}
