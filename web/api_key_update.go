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

// apiUpdateKey changes a key's fields in one transaction, each recorded
// as the console's form for it records it: all of them, or, when one is
// refused, none, and the answer names the field.
func (h *handler) apiUpdateKey(c echo.Context) error {
	var in apiKeyChange
	if ok, err := decodeAPIBody(c, &in); !ok {
		return err
	}
	u := store.KeyUpdate{Name: in.Name, Capacity: in.Capacity, Frequency: in.Frequency, RotateEveryDays: in.RotateEveryDays, Enabled: in.Enabled}
	if len(in.Expires) > 0 {
		expires, err := apiExpires(in.Expires)
		if err != nil {
			return apiBodyError(c, "expires", err.Error())
		}
		u.ExpiresAt = &expires
	}
	k, err := h.store.UpdateKey(c.Request().Context(), apiActor(c), c.Param("id"), u)
	if err != nil {
		return apiFail(c, err, keyFields...)
	}
	return h.apiAnswerKey(c, http.StatusOK, k)
}
