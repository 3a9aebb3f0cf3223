package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// keyHistoryLen is how many events the details page shows, and
// keyUsageDays how many days its usage chart covers.
const (
	keyHistoryLen = 50
	keyUsageDays  = 14
)

func (h *handler) showKeyDetailsPage(c echo.Context) error {
	v, err := h.keyDetails(c, c.Param("id"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.KeyDetailsPage(h.page(c, v.Key.Name, "keys"), v), nil)
}

// keyDetails loads what the details page shows, with the expiry form
// holding the key's current expiry.
func (h *handler) keyDetails(c echo.Context, id string) (views.KeyDetails, error) {
	ctx := c.Request().Context()
	k, err := h.store.Key(ctx, scope(c), id)
	if err != nil {
		return views.KeyDetails{}, err
	}
	events, err := h.store.TargetEvents(ctx, scope(c), store.TargetKey, k.ID, keyHistoryLen)
	if err != nil {
		return views.KeyDetails{}, err
	}
	// The key is in the viewer's scope, so its organization is too.
	org, err := h.store.Org(ctx, scope(c), k.OrgID)
	if err != nil {
		return views.KeyDetails{}, err
	}
	secrets, err := h.store.KeySecrets(ctx, scope(c), k.ID)
	if err != nil {
		return views.KeyDetails{}, err
	}
	usage, err := h.store.KeyUsageDays(ctx, scope(c), k.ID, keyUsageDays)
	if err != nil {
		return views.KeyDetails{}, err
	}
	v := views.KeyDetails{Key: k, Org: org, Events: events, Secrets: secrets, Usage: usage, NeverExpires: k.ExpiresAt.IsZero(), Name: k.Name,
		Capacity: strconv.Itoa(k.Capacity), Frequency: strconv.Itoa(k.Frequency), GraceDays: strconv.Itoa(org.Effective.Grace()),
		RotateEvery: form.DaysText(k.RotateEveryDays)}
	if !k.ExpiresAt.IsZero() {
		v.ExpiresAt = form.FormatExpiry(k.ExpiresAt)
	}
	return v, nil
}

// keyFormError shows a key's page again after one of its forms was refused:
// typed puts back what was typed, and errs goes beside the fields.
func (h *handler) keyFormError(c echo.Context, id string, errs form.Errors, typed func(*views.KeyDetails)) error {
	v, err := h.keyDetails(c, id)
	if err != nil {
		return err
	}
	typed(&v)
	v.Errors = errs
	return render(c, http.StatusUnprocessableEntity, views.KeyDetailsPage(h.page(c, v.Key.Name, "keys"), v), nil)
}
