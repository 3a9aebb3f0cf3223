package store

import "database/sql"

// CacheStats says what the verification cache did since the store opened.
type CacheStats struct {
	Hits   uint64 // verifications answered from memory
	Misses uint64 // verifications that read the database: a key not cached, or none
	// Invalidations counts the cached secrets that changes dropped.
	Invalidations uint64
	Entries       int // secrets cached now
	// RateTrips counts the reservations from rate limits that every
	// instance shares (on PostgreSQL): each is one trip to the database.
	RateTrips uint64
}

// CacheStats reads the verification cache's figures.
func (s *Store) CacheStats() CacheStats {
	c := s.cache
	c.mu.RLock()
	n := len(c.byHash)
	c.mu.RUnlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Invalidations: c.invalidations.Load(), Entries: n,
		RateTrips: c.rateTrips.Load()}
}

// PoolStats reads the figures of the database's connection pools, by
// name: "reader" and "writer".
func (s *Store) PoolStats() map[string]sql.DBStats {
	return map[string]sql.DBStats{"reader": s.reader.Stats(), "writer": s.writer.Stats()}
}
