package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Verification codes, as the verification API answers them.
const (
	CodeMalformed        = "MALFORMED"         // not a Keydesk key, or a typo: decided before any lookup
	CodeNotFound         = "NOT_FOUND"         // no such key
	CodeRevoked          = "REVOKED"           // revoked, for good
	CodeExpired          = "EXPIRED"           // past its expiry
	CodeDisabled         = "DISABLED"          // switched off
	CodeOrgDisabled      = "ORG_DISABLED"      // its organization has API keys switched off
	CodeWrongOrg         = "WRONG_ORG"         // not at the organization asked about, nor above it
	CodePermissionDenied = "PERMISSION_DENIED" // lacks the permission asked about
	CodeRateLimited      = "RATE_LIMITED"      // used more than its rate limit allows
)

// Verification is the answer to "is this key good?".
type Verification struct {
	Valid bool
	Code  string // "" when valid

	// Known is set when the key exists; the fields below describe it.
	Known       bool
	ID          string
	Name        string
	Permissions []string
	ExpiresAt   time.Time
	OrgID       string // the key's organization
	OrgName     string
	orgIDs      string
	// GraceUntil is set when the secret presented is one the key had
	// before a rotation: it verifies until then.
	GraceUntil time.Time

	// The key's rate limit after this verification.
	Limit      int
	Remaining  int
	Reset      time.Duration // until the full capacity is back
	RetryAfter time.Duration // when rate limited: until the next verification can pass

	// Stale is set when the database could not be read and the answer
	// comes from what was cached before the change feed went down, this
	// long ago (see Store.StaleFor).
	Stale time.Duration
}

// cachedKey is what verification needs of a key, kept in memory so that a
// verification normally reads no database. Its fields never change: a
// change to the key drops it from the cache.
type cachedKey struct {
	rowID       int64
	id          string
	name        string
	permissions []string
	expiresAt   int64 // Unix seconds; 0: never
	revokedAt   int64 // Unix seconds; 0: not revoked
	enabled     bool
	orgRow      int64
	org         *orgInfo // the key's organization, as the org cache had it
	graceUntil  int64    // Unix seconds; 0: the key's current secret
	limiter     *limiter
	usage       *usage
}

// status is the cached key's status at now.
func (e *cachedKey) status(now time.Time) Status {
	k := Key{Enabled: e.enabled, OrgOff: e.org.off}
	if e.expiresAt != 0 {
		k.ExpiresAt = time.Unix(e.expiresAt, 0)
	}
	if e.revokedAt != 0 {
		k.RevokedAt = time.Unix(e.revokedAt, 0)
	}
	return k.Status(now)
}

// limiter is a key's rate limit: GCRA, a token bucket kept as one time. A
// key may make capacity verifications at once, and gets one back every
// frequency/capacity.
type limiter struct {
	capacity int
	interval int64 // nanoseconds per verification
	burst    int64 // capacity * interval
	tat      atomic.Int64
	lease    lease // when the bucket is shared
}

func newLimiter(capacity, frequency int) *limiter {
	interval := int64(frequency) * int64(time.Second) / int64(capacity)
	return &limiter{capacity: capacity, interval: interval, burst: int64(capacity) * interval}
}

// take spends one verification at now (Unix nanoseconds) if there is one
// left, and says what is left.
func (l *limiter) take(now int64, spend bool) (ok bool, remaining int, reset, retry time.Duration) {
	for {
		tat := l.tat.Load()
		next := max(tat, now) + l.interval
		if next-now > l.burst || !spend {
			// Refused (or only looking): report the bucket as it stands.
			return l.answer(tat, now, false, spend)
		}
		if l.tat.CompareAndSwap(tat, next) {
			return l.answer(next, now, true, spend)
		}
	}
}

// orgsFreshWhileDown is how long the organizations read while the change
// feed is down serve verifications, before they are read again: every
// key is read anew, but reading every organization for each verification
// would cost a server with thousands of them more than the outage.
const orgsFreshWhileDown = 100 * time.Millisecond

// DefaultStaleFor is Store.StaleFor unless the server is told otherwise.
const DefaultStaleFor = 30 * time.Second

// sharedRates keeps the keys' rate limits in the database, for every
// instance (PostgreSQL's): LeaseRate reserves up to want of key's
// verifications at now, after giving back giveBack reserved before and
// not spent, in one atomic statement, and returns the bucket's time (tat)
// after and how many it granted.
type sharedRates interface {
	LeaseRate(ctx context.Context, key, now, interval, burst, want, giveBack int64) (tat, granted int64, err error)
}

// leaseFor is how long an instance may hold verifications it reserved
// from a shared bucket: each is spent at most this long after the bucket
// granted it, or goes back.
const leaseFor = int64(100 * time.Millisecond)

// lease is what this instance holds of a key's shared bucket: every
// instance reserves verifications in batches, spends them from memory,
// and goes back to the database when it has none left. A batch doubles
// while the instance runs out before the lease ends, and shrinks to what
// it used when it does not, up to an eighth of the capacity: a single
// instance still passes exactly the capacity, and one that stops
// verifying a key keeps at most an eighth of its allowance from the
// others until that much has come back (an eighth of the frequency).
type lease struct {
	mu        sync.Mutex
	left      int64 // reserved, not spent yet
	granted   int64 // by the last reservation
	until     int64 // when what is left goes back (Unix nanoseconds)
	size      int64 // to reserve next
	tat       int64 // the shared bucket's time, as last read
	emptyTill int64 // the shared bucket was empty until then, as last read
}

// takeShared is take on the bucket that db keeps for the key with row id
// key, spent through this instance's lease. It counts its trips to the
// database in trips. An answer that spends nothing, and a refusal while
// the bucket was last seen empty, need no trip: they report the bucket as
// this instance last saw it.
func (l *limiter) takeShared(ctx context.Context, db sharedRates, key, now int64, spend bool, trips *atomic.Uint64) (ok bool, remaining int, reset, retry time.Duration, err error) {
	ls := &l.lease
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case !spend:
		ok = true
	case ls.left > 0 && now < ls.until:
		ls.left--
		ok = true
	case now >= ls.emptyTill:
		var giveBack int64
		if now >= ls.until {
			giveBack = ls.left
		}
		want := ls.next(now, max(int64(l.capacity)/8, 1))
		trips.Add(1)
		tat, granted, err := db.LeaseRate(ctx, key, now, l.interval, l.burst, want, giveBack)
		if err != nil {
			return false, 0, 0, 0, err
		}
		ls.tat, ls.granted, ls.left, ls.until = tat, granted, granted, now+leaseFor
		if granted == 0 {
			ls.emptyTill = tat - l.burst + l.interval
		} else {
			ls.left--
			ok = true
		}
	}
	used := max(ls.tat, now) - now
	remaining = int((l.burst - used) / l.interval)
	if now < ls.until {
		remaining += int(ls.left)
	}
	if !ok {
		retry = time.Duration(ls.emptyTill - now)
	}
	return ok, remaining, time.Duration(used), retry, nil
}

// next is the size of the reservation to make at now, at most most.
func (ls *lease) next(now, most int64) int64 {
	switch {
	case ls.size == 0:
		ls.size = 1
	case now < ls.until: // ran out early
		ls.size = min(ls.size*2, most)
	default:
		ls.size = min(max(ls.granted-ls.left, 1), most)
	}
	return ls.size
}

// answer says, from the bucket's time tat at now, whether a verification
// passes (it took one; or, without spend, it only looked) and what is left.
func (l *limiter) answer(tat, now int64, took, spend bool) (ok bool, remaining int, reset, retry time.Duration) {
	used := max(tat, now) - now
	if took {
		return true, int((l.burst - used) / l.interval), time.Duration(used), 0
	}
	retry = time.Duration(max(used+l.interval-l.burst, 0))
	return !spend, int((l.burst - used) / l.interval), time.Duration(used), retry
}

// keyCache maps secret hashes to cached keys: a key's current secret and
// its previous ones each have an entry. Rate limits and usage live by row
// id, so that they are the key's whichever secret is presented, and
// outlive a cache entry that a change dropped.
type keyCache struct {
	mu       sync.RWMutex
	byHash   map[[sha256.Size]byte]*cachedKey
	byRow    map[int64][][sha256.Size]byte
	limiters map[int64]*limiter
	usage    map[int64]*usage
	// gen moves on at every change, so that a lookup that read the
	// database before a change cannot put what it read in the cache after.
	gen atomic.Uint64
	// What the cache did, for CacheStats.
	hits, misses, invalidations atomic.Uint64
	rateTrips                   atomic.Uint64 // to the shared rate limits
}

// maxCachedKeys bounds the memory the cache takes.
const maxCachedKeys = 200_000

func newKeyCache() *keyCache {
	return &keyCache{
		byHash:   map[[sha256.Size]byte]*cachedKey{},
		byRow:    map[int64][][sha256.Size]byte{},
		limiters: map[int64]*limiter{},
		usage:    map[int64]*usage{},
	}
}

func (c *keyCache) get(h [sha256.Size]byte) *cachedKey {
	c.mu.RLock()
	e := c.byHash[h]
	c.mu.RUnlock()
	return e
}

// put caches e unless a change came since gen, and gives e its limiter and
// usage counter either way.
func (c *keyCache) put(h [sha256.Size]byte, e *cachedKey, capacity, frequency int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.limiters[e.rowID]
	if l == nil || l.capacity != capacity || l.interval != newLimiter(capacity, frequency).interval {
		l = newLimiter(capacity, frequency)
		c.limiters[e.rowID] = l
	}
	u := c.usage[e.rowID]
	if u == nil {
		u = &usage{}
		c.usage[e.rowID] = u
	}
	e.limiter, e.usage = l, u
	if c.gen.Load() != gen {
		return
	}
	if _, ok := c.byHash[h]; !ok && len(c.byHash) >= maxCachedKeys {
		for old, oldKey := range c.byHash { // any entry: map order is random
			c.forget(old, oldKey.rowID)
			break
		}
	}
	if _, ok := c.byHash[h]; !ok {
		c.byRow[e.rowID] = append(c.byRow[e.rowID], h)
	}
	c.byHash[h] = e
}

// forget drops the entry of one secret of the key of row.
func (c *keyCache) forget(h [sha256.Size]byte, row int64) {
	delete(c.byHash, h)
	hashes := slices.DeleteFunc(c.byRow[row], func(x [sha256.Size]byte) bool { return x == h })
	if len(hashes) == 0 {
		delete(c.byRow, row)
	} else {
		c.byRow[row] = hashes
	}
}

// drop forgets the cached keys of rows (all of them when rows is nil).
// Deleted keys also lose their rate limit.
func (c *keyCache) drop(rows []int64, deleted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if rows == nil {
		c.invalidations.Add(uint64(len(c.byHash)))
		clear(c.byHash)
		clear(c.byRow)
		return
	}
	for _, row := range rows {
		c.invalidations.Add(uint64(len(c.byRow[row])))
		for _, h := range c.byRow[row] {
			delete(c.byHash, h)
		}
		delete(c.byRow, row)
		if deleted {
			delete(c.limiters, row)
			delete(c.usage, row) // its uses have nowhere to go
		}
	}
}

// VerifyKey checks a presented key, counts it as used and spends one of
// its rate limit when it is good. permission, if not empty, must be one of
// the key's; org, if not empty, is the public id of an organization the
// key must serve (be at, or above).
func (s *Store) VerifyKey(ctx context.Context, secret, permission, org string) (Verification, error) {
	return s.verify(ctx, secret, permission, org, true)
}

// CheckKey answers as VerifyKey does, but counts nothing: for testing a key
// from the console. A key outside the scope is not found, as everywhere in
// the console.
func (s *Store) CheckKey(ctx context.Context, sc Scope, secret, permission, org string) (Verification, error) {
	v, err := s.verify(ctx, secret, permission, org, false)
	if err == nil && v.Known && !sc.contains(v.orgIDs) {
		return Verification{Code: CodeNotFound}, nil
	}
	return v, err
}

func (s *Store) verify(ctx context.Context, secret, permission, org string, count bool) (Verification, error) {
	if !WellFormedSecret(secret) {
		if count {
			s.countRefusal(org, CodeMalformed)
		}
		return Verification{Code: CodeMalformed}, nil
	}
	// Hash from a stack buffer: a secret is short, and this keeps the
	// cached path free of allocations.
	var buf [SecretLen]byte
	copy(buf[:], secret)
	h := sha256.Sum256(buf[:])
	e := s.cache.get(h)
	var (
		stale     *cachedKey // what was cached, should the database not answer
		staleOrgs *orgIndex
		staleFor  time.Duration
	)
	if down := s.db.DownSince(); !down.IsZero() {
		// Changes may have gone unannounced: read the key anew, and the
		// organizations if they were read before the feed went down, or
		// longer ago than orgsFreshWhileDown.
		if staleFor = time.Since(down); staleFor <= s.StaleFor {
			stale, staleOrgs = e, s.orgs.index.Load()
		}
		e = nil
		readBy := time.Now().Add(-orgsFreshWhileDown)
		if down.After(readBy) {
			readBy = down
		}
		s.orgs.dropIfReadBefore(readBy)
	}
	if e != nil {
		s.cache.hits.Add(1)
	} else {
		s.cache.misses.Add(1)
		var err error
		e, err = s.loadVerifiedKey(ctx, h)
		switch {
		case err != nil && stale != nil:
			e = stale
		case err != nil:
			return Verification{}, err
		default:
			stale = nil
		}
		if e == nil {
			if count {
				s.countRefusal(org, CodeNotFound)
			}
			return Verification{Code: CodeNotFound}, nil
		}
	}
	now := s.Now()
	v := Verification{Known: true, ID: e.id, Name: e.name, Permissions: e.permissions, Limit: e.limiter.capacity,
		OrgID: e.org.id, OrgName: e.org.name, orgIDs: e.org.ids}
	if stale != nil {
		v.Stale = staleFor
	}
	if e.expiresAt != 0 {
		v.ExpiresAt = time.Unix(e.expiresAt, 0).UTC()
	}
	// The status decides, as it does everywhere else a key is judged; a
	// previous secret verifies until its grace ends.
	v.Code = e.status(now).verifyCode()
	if e.graceUntil != 0 {
		v.GraceUntil = time.Unix(e.graceUntil, 0).UTC()
		if v.Code == "" && now.Unix() >= e.graceUntil {
			v.Code = CodeExpired
		}
	}
	if v.Code == "" && org != "" {
		// A key serves its organization and every one below it: the
		// organization asked about must be at or below the key's. An
		// unknown organization is served by no key.
		orgs, err := s.orgs.get()
		switch {
		case err != nil && stale != nil && staleOrgs != nil:
			orgs = staleOrgs
		case err != nil:
			return Verification{}, err
		}
		if o := orgs.byID[org]; o == nil || !strings.HasPrefix(o.ids, e.org.ids) {
			v.Code = CodeWrongOrg
		}
	}
	if v.Code == "" && permission != "" && !Grants(e.permissions, permission) {
		v.Code = CodePermissionDenied
	}
	spend := count && v.Code == ""
	var (
		ok           bool
		remaining    int
		reset, retry time.Duration
	)
	if shared, isShared := s.db.(sharedRates); isShared && stale == nil {
		// Every instance spends from one bucket per key. (With the
		// database out of reach, each spends from its own.)
		var err error
		if ok, remaining, reset, retry, err = e.limiter.takeShared(ctx, shared, e.rowID, now.UnixNano(), spend, &s.cache.rateTrips); err != nil {
			return Verification{}, err
		}
	} else {
		ok, remaining, reset, retry = e.limiter.take(now.UnixNano(), spend)
	}
	v.Remaining, v.Reset, v.RetryAfter = remaining, reset, retry
	if spend && !ok {
		v.Code = CodeRateLimited
	}
	if count {
		e.usage.count(v.Code, now)
	}
	v.Valid = v.Code == ""
	return v, nil
}

// verifyLookup reads one key by its current secret's hash, and
// verifyPreviousLookup by a previous one's, with the end of its grace. The
// key's organization comes from the org cache. (As one UNION ALL, the
// lookup of a current secret took twice as long.)
const (
	verifyLookup = `SELECT id, public_id, name, permissions, expires_at, enabled, coalesce(revoked_at, 0),
	capacity, frequency, org_id, 0 FROM keys WHERE secret_hash = ?`
	verifyPreviousLookup = `SELECT k.id, k.public_id, k.name, k.permissions, k.expires_at, k.enabled, coalesce(k.revoked_at, 0),
	k.capacity, k.frequency, k.org_id, p.grace_until FROM previous_secrets p JOIN keys k ON k.id = p.key_id
	WHERE p.secret_hash = ?`
)

// loadVerifiedKey reads a key by its secret's hash and caches it. It
// returns nil when there is no such key.
func (s *Store) loadVerifiedKey(ctx context.Context, h [sha256.Size]byte) (*cachedKey, error) {
	gen := s.cache.gen.Load()
	var (
		e                   cachedKey
		perms               string
		expires             sql.NullInt64
		capacity, frequency int
	)
	dest := []any{&e.rowID, &e.id, &e.name, &perms, &expires, &e.enabled, &e.revokedAt, &capacity, &frequency, &e.orgRow, &e.graceUntil}
	err := s.verifyStmt.QueryRowContext(ctx, h[:]).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.verifyPreviousStmt.QueryRowContext(ctx, h[:]).Scan(dest...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.permissions = strings.Fields(perms)
	e.expiresAt = expires.Int64
	orgs, err := s.orgs.get()
	if err != nil {
		return nil, err
	}
	if e.org = orgs.byRow[e.orgRow]; e.org == nil {
		return nil, fmt.Errorf("store: key %s belongs to organization %d, which does not exist", e.id, e.orgRow)
	}
	s.cache.put(h, &e, capacity, frequency, gen)
	return &e, nil
}
