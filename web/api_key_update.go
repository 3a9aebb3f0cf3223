package web

import (
	"net/http"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiKeyChange is a PATCH's body: the fields to change, the others left
// out.
type apiKeyChange struct {
	Enabled         *bool          `json:"enabled"`
	Name            *string        `json:"name"`
	Expires         jsontext.Value `json:"expires"`
	Capacity        *int           `json:"capacity"`
	Frequency       *int           `json:"frequency"`
	RotateEveryDays *int           `json:"rotate_every_days"`
}

// apiUpdateKey changes a key's fields, each through the store call (and
// the audit event) the console's form for it makes, in this order: name,
// rate limit, expiry, schedule, enabled. A refusal stops at its field,
// those before it made, and names it.
func (h *handler) apiUpdateKey(c echo.Context) error {
	var in apiKeyChange
	if ok, err := decodeAPIBody(c, &in); !ok {
		return err
	}
	ctx, actor, id := c.Request().Context(), apiActor(c), c.Param("id")
	k, err := h.store.Key(ctx, actor.Scope, id)
	if err != nil {
		return apiFail(c, err)
	}
	expiresGiven := len(in.Expires) > 0
	expires, err := apiExpires(in.Expires)
	if err != nil {
		return apiBodyError(c, "expires", err.Error())
	}
	if (in.Capacity == nil) != (in.Frequency == nil) {
		// One alone keeps the other as it is.
		if in.Capacity == nil {
			in.Capacity = &k.Capacity
		} else {
			in.Frequency = &k.Frequency
		}
	}
	steps := []struct {
		given bool
		do    func() (store.Key, error)
	}{
		{in.Name != nil, func() (store.Key, error) { return h.store.RenameKey(ctx, actor, id, *in.Name) }},
		{in.Capacity != nil, func() (store.Key, error) { return h.store.SetKeyRateLimit(ctx, actor, id, *in.Capacity, *in.Frequency) }},
		{expiresGiven, func() (store.Key, error) { return h.store.SetKeyExpiry(ctx, actor, id, expires) }},
		{in.RotateEveryDays != nil, func() (store.Key, error) { return h.store.SetKeySchedule(ctx, actor, id, *in.RotateEveryDays) }},
		{in.Enabled != nil && *in.Enabled, func() (store.Key, error) { return h.store.EnableKey(ctx, actor, id) }},
		{in.Enabled != nil && !*in.Enabled, func() (store.Key, error) { return h.store.DisableKey(ctx, actor, id) }},
	}
	for _, s := range steps {
		if !s.given {
			continue
		}
		if k, err = s.do(); err != nil {
			return apiFail(c, err)
		}
	}
	return h.apiAnswerKey(c, http.StatusOK, k)
}
