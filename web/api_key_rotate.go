package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiRotation is a rotate's body: the previous secret's grace, in days;
// the organization's when left out.
type apiRotation struct {
	GraceDays *int `json:"grace_days"`
}

// apiRotateKey gives a key a new secret and answers it, this once, with
// when the previous one stops working.
func (h *handler) apiRotateKey(c echo.Context) error {
	in := apiRotation{}
	if c.Request().ContentLength != 0 {
		if ok, err := decodeAPIBody(c, &in); !ok {
			return err
		}
	}
	grace := store.OrgGrace
	if in.GraceDays != nil {
		grace = *in.GraceDays
	}
	r, err := h.store.RotateKey(c.Request().Context(), apiActor(c), c.Param("id"), grace)
	if err != nil {
		return apiFail(c, err)
	}
	root, err := h.store.RootOrgID(c.Request().Context())
	if err != nil {
		return err
	}
	var graceUntil any
	if !r.Replaced.GraceUntil.IsZero() {
		graceUntil = r.Replaced.GraceUntil.UTC()
	}
	return c.JSON(http.StatusOK, map[string]any{"apikey": apiKeyOf(r.Key, h.now(), root), "key": r.Secret, "previous_works_until": graceUntil})
}
