package web

import (
	"time"

	"github.com/keydesk/keydesk/store"
)

// apiKey is a key as the management API answers it: the provisioning
// API's fields, and Keydesk's own beside them.
type apiKey struct {
	ID          string     `json:"id"`
	Tenant      string     `json:"tenant"` // the organization's id, "*" for the root
	Org         string     `json:"org"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	Enabled     bool       `json:"enabled"`
	Created     time.Time  `json:"created"`
	Revoked     any        `json:"revoked"` // a time, or false as the provisioning API has it
	Expires     any        `json:"expires"` // a time, or false for never
	CreatedBy   string     `json:"createdby"`
	Capacity    int        `json:"capacity"`
	Frequency   int        `json:"frequency"`
	Status      string     `json:"status"`
	Hint        string     `json:"hint"`
	Uses24h     int64      `json:"uses_24h"`
	LastUsed    *time.Time `json:"last_used"`
	RotateEvery *int       `json:"rotate_every_days"`
}

// apiKeyOf writes k for the API, its status as of now; root is the public
// id of the root organization, which the provisioning API calls "*".
func apiKeyOf(k store.Key, now time.Time, root string) apiKey {
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	out := apiKey{ID: k.ID, Tenant: k.OrgID, Org: k.OrgID, Name: k.Name, Permissions: k.Permissions, Enabled: k.Enabled,
		Created: k.CreatedAt.UTC(), Revoked: orFalse(k.RevokedAt), Expires: orFalse(k.ExpiresAt), CreatedBy: k.CreatedBy,
		Capacity: k.Capacity, Frequency: k.Frequency, Status: k.Status(now).String(), Hint: k.Hint, Uses24h: k.Uses24h,
		LastUsed: at(k.LastUsedAt)}
	if k.OrgID == root {
		out.Tenant = "*"
	}
	if out.Permissions == nil {
		out.Permissions = []string{}
	}
	if k.RotateEveryDays > 0 {
		out.RotateEvery = &k.RotateEveryDays
	}
	return out
}

// orFalse is a time for the API, or false when there is none, as the
// provisioning API answers "revoked" and "expires".
func orFalse(t time.Time) any {
	if t.IsZero() {
		return false
	}
	return t.UTC()
}
