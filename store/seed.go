package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"
)

// Words that seeded key names are made of.
var (
	seedServices = []string{"billing", "checkout", "payments", "search", "analytics", "reporting", "notify",
		"support", "crm", "inventory", "shipping", "webhooks", "mobile-app", "web-app", "partner-api",
		"chatbot", "voice-gateway", "sms", "email", "sso", "audit", "export", "sync", "ledger", "fraud"}
	seedEnvs     = []string{"prod", "staging", "dev", "test", "sandbox"}
	seedRegions  = []string{"eu", "us", "apac", "uk", "ca"}
	seedCreators = []string{"admin", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"}
)

// SeedKeys creates n demo keys with varied names, permissions, states,
// expiry dates and creators, for demos and benchmarks, spread over orgs (the
// root when there are none). Their secrets are thrown away. It writes in
// batches, one transaction each.
func (s *Store) SeedKeys(ctx context.Context, n int, rng *rand.Rand, orgs ...Org) error {
	perms, err := s.Permissions(ctx)
	if err != nil {
		return err
	}
	if len(perms) == 0 {
		return fmt.Errorf("store: seed: the permission catalog is empty")
	}
	actor := SystemActor("seed")
	used := map[string]int{}
	const batch = 20_000
	for done := 0; done < n; {
		size := min(batch, n-done)
		err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
			for i := 0; i < size; i++ {
				org := RootOrg
				if len(orgs) > 0 {
					org = orgs[rng.IntN(len(orgs))].rowID
				}
				k := seedKey(rng, now, perms, used, done+i)
				// A database seeded before may hold the name already.
				for checkKeyNameFree(ctx, tx, org, k.Name) != nil {
					k = seedKey(rng, now, perms, used, done+i)
				}
				k.orgRow = org
				secret := NewSecret()
				k.Hint = secretHint(secret)
				if err := insertKey(ctx, tx, &k, HashSecret(secret)); err != nil {
					return err
				}
				// Events carry their own time; the seeded key's is its creation.
				ev := eventRecord{Action: ActionKeyCreated, TargetType: TargetKey, TargetID: k.ID, TargetName: k.Name, org: org,
					Details: map[string]any{"permissions": k.Permissions, "seeded": true}}
				if err := s.logEvent(ctx, tx, now, actor, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: seed: %w", err)
		}
		done += size
	}
	return nil
}

func seedKey(rng *rand.Rand, now time.Time, perms []Permission, used map[string]int, i int) Key {
	name := fmt.Sprintf("%s-%s-%s", pick(rng, seedServices), pick(rng, seedEnvs), pick(rng, seedRegions))
	if used[name]++; used[name] > 1 {
		name = fmt.Sprintf("%s-%d", name, used[name])
	}
	var kp []string
	for _, p := range perms {
		if rng.IntN(3) > 0 {
			kp = append(kp, p.Name)
		}
	}
	if len(kp) == 0 {
		kp = []string{perms[i%len(perms)].Name}
	}
	created := now.Add(-time.Duration(1 + rng.Int64N(int64(2*365*24*time.Hour)))).Truncate(time.Second)
	// Later moments of a key's life fall between its creation and now.
	since := func() time.Time {
		return created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)/time.Second)+1)) * time.Second)
	}
	creator := pick(rng, seedCreators)
	k := Key{
		ID: newPublicID(), Name: name, Permissions: kp, Enabled: rng.IntN(100) >= 8,
		Capacity: []int{60, 120, 120, 120, 600, 1200}[rng.IntN(6)], Frequency: []int{60, 60, 60, 1, 3600}[rng.IntN(5)],
		CreatedAt: created, CreatedBy: creator, UpdatedAt: created, UpdatedBy: creator,
	}
	switch r := rng.IntN(100); {
	case r < 55: // never expires
	case r < 70: // expires within 30 days: soon unavailable
		k.ExpiresAt = now.Add(time.Duration(1+rng.Int64N(30*24)) * time.Hour)
	case r < 88: // expires later
		k.ExpiresAt = now.Add(time.Duration(31*24+rng.Int64N(365*24)) * time.Hour)
	default: // expired, at some second between its creation and now
		k.ExpiresAt = since()
	}
	if !k.ExpiresAt.IsZero() {
		k.ExpirySetAt, k.ExpirySetBy = created, creator
	}
	if rng.IntN(100) < 6 {
		k.RevokedAt, k.RevokedBy = since(), pick(rng, seedCreators)
	}
	if rng.IntN(100) < 75 {
		k.LastUsedAt = since()
		k.UseCount = 1 + rng.Int64N(250_000)
	}
	return k
}

// seedOrgNames are what seeded organizations are called, with a number.
var seedOrgNames = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "wonka"}

// SeedOrgs creates n demo organizations in a tree at most four levels
// below the root, and returns them with the root first.
func (s *Store) SeedOrgs(ctx context.Context, n int, rng *rand.Rand) ([]Org, error) {
	orgs, err := s.Orgs(ctx, Scope{})
	if err != nil {
		return nil, err
	}
	all := orgs[:1] // the root
	for i := range n {
		parent := all[rng.IntN(len(all))]
		for parent.Depth >= 4 {
			parent = all[rng.IntN(len(all))]
		}
		o, err := s.CreateOrg(ctx, SystemActor("seed"), fmt.Sprintf("%s-%d", pick(rng, seedOrgNames), i+1), parent.ID)
		if err != nil {
			return nil, fmt.Errorf("store: seed organizations: %w", err)
		}
		all = append(all, o)
	}
	return all, nil
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }
