package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiNewKey is the provisioning API's body for a new key, with Keydesk's
// own fields beside it. Pointers tell a field left out from a zero.
type apiNewKey struct {
	Enabled         *bool          `json:"enabled"`
	Tenant          string         `json:"tenant"`
	Name            string         `json:"name"`
	Permissions     []string       `json:"permissions"`
	Expires         jsontext.Value `json:"expires"` // an RFC 3339 time, or false or null for never
	Capacity        *int           `json:"capacity"`
	Frequency       *int           `json:"frequency"`
	RotateEveryDays *int           `json:"rotate_every_days"`
}

// apiCreatedKey is a new key's answer: the key, its secret this once.
type apiCreatedKey struct {
	apiKey
	Key string `json:"key"`
}

// apiCreateKey makes a key, as the provisioning API's POST does: in the
// organization "tenant" names ("*" the root; the caller's own when left
// out), enabled unless "enabled" is false, and answers it with its secret.
func (h *handler) apiCreateKey(c echo.Context) error {
	var in apiNewKey
	if ok, err := decodeAPIBody(c, &in); !ok {
		return err
	}
	ctx := c.Request().Context()
	root, err := h.store.RootOrgID(ctx)
	if err != nil {
		return err
	}
	nk := store.NewKey{Name: in.Name, Permissions: in.Permissions, Enabled: in.Enabled == nil || *in.Enabled, Org: in.Tenant,
		Capacity: store.DefaultCapacity, Frequency: store.DefaultFrequency}
	if nk.Org == "*" {
		nk.Org = root
	}
	if in.Capacity != nil {
		nk.Capacity = *in.Capacity
	}
	if in.Frequency != nil {
		nk.Frequency = *in.Frequency
	}
	if in.RotateEveryDays != nil {
		nk.RotateEveryDays = *in.RotateEveryDays
	}
	if nk.ExpiresAt, err = apiExpires(in.Expires); err != nil {
		return apiBodyError(c, "expires", err.Error())
	}
	k, secret, err := h.store.CreateKey(ctx, apiActor(c), nk)
	if err != nil {
		return apiFail(c, err, keyFields...)
	}
	return c.JSON(http.StatusCreated, apiCreatedKey{apiKey: apiKeyOf(k, h.now(), root), Key: secret})
}

// apiExpires reads an "expires" field: an RFC 3339 time, or false, null
// or nothing for never (the zero time).
func apiExpires(v jsontext.Value) (time.Time, error) {
	bad := errors.New(`"expires" is a time in RFC 3339, such as 2027-01-31T00:00:00Z, or false for never.`)
	switch kind := v.Kind(); {
	case len(v) == 0, kind == 'n', kind == 'f':
		return time.Time{}, nil
	case kind == '"':
		var text string
		if err := json.Unmarshal(v, &text); err != nil {
			return time.Time{}, bad
		}
		at, err := time.Parse(time.RFC3339, text)
		if err != nil {
			return time.Time{}, bad
		}
		return at, nil
	}
	return time.Time{}, bad
}
