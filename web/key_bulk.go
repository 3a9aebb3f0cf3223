package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

// changeKeys applies one action to the selected keys, or to every key that
// matches the list's filters (all=1), in one transaction.
func (h *handler) changeKeys(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	action := store.KeyAction(values.Get("action"))
	if !slices.Contains(store.BulkActions, action) && action != store.KeyRotate {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose an action: enable, disable, rotate, revoke or delete.")
	}
	if u, _ := currentUser(c); !u.Can(action.Right()) {
		return h.denied(c)
	}
	var sel store.KeySelection
	if values.Get("all") == "1" {
		params, perr := form.ParseKeyListParams(values)
		if perr != nil {
			return echo.NewHTTPError(http.StatusBadRequest, perr.Message)
		}
		f := params.Filter()
		sel.Filter = &f
		if e := values.Get("expected"); e != "" {
			if sel.Expected, err = strconv.Atoi(e); err != nil || sel.Expected < 0 {
				return echo.NewHTTPError(http.StatusBadRequest, "The confirmed count is not a number.")
			}
		}
	} else {
		sel.IDs = values["id"]
		if len(sel.IDs) == 0 {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "Select at least one key first.")
		}
	}
	if action == store.KeyRotate {
		return h.rotateKeys(c, sel, values.Get("grace_days"))
	}
	res, err := h.store.ChangeKeys(c.Request().Context(), h.actor(c), action, sel)
	if err != nil {
		return err
	}
	h.addFlash(c, false, bulkMessage(action, res))
	return redirectBack(c, urls.Keys)
}

var bulkPast = map[store.KeyAction]string{
	store.KeyEnable:  "Enabled",
	store.KeyDisable: "Disabled",
	store.KeyRevoke:  "Revoked",
	store.KeyDelete:  "Deleted",
}

// bulkMessage says what a bulk action did, including what it left alone.
func bulkMessage(action store.KeyAction, res store.BulkResult) string {
	msg := fmt.Sprintf("%s %s.", bulkPast[action], keyCount(res.Changed))
	if res.Skipped > 0 {
		why := map[store.KeyAction]string{
			store.KeyEnable:  "already enabled, or revoked",
			store.KeyDisable: "already disabled, or revoked",
			store.KeyRevoke:  "already revoked, or expired",
		}[action]
		verb := "were"
		if res.Skipped == 1 {
			verb = "was"
		}
		msg += fmt.Sprintf(" %s %s left alone: %s.", keyCount(res.Skipped), verb, why)
	}
	return msg
}

// keyCount writes a number of keys: "1 key", "3,839 keys".
func keyCount(n int) string {
	if n == 1 {
		return "1 key"
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " keys"
}

// rotateKeys rotates the selected keys, each with its organization's
// grace period unless one is given, and shows their new secrets, the one
// time they are shown.
func (h *handler) rotateKeys(c echo.Context, sel store.KeySelection, typed string) error {
	var errs form.Errors
	grace := form.ParseGraceDays(strings.TrimSpace(typed), &errs)
	if errs.Any() {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, errs.Get("grace_days"))
	}
	res, rotated, err := h.store.RotateKeys(c.Request().Context(), h.actor(c), sel, grace)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	p := h.page(c, "Secrets rotated", "keys")
	// Said on the list that Done leads to.
	h.addFlash(c, false, fmt.Sprintf("Rotated %s.", keyCount(res.Changed)))
	return render(c, http.StatusCreated, views.KeysRotatedPage(p, rotated, res.Skipped), nil)
}
