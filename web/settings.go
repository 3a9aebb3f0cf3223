package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) showSettingsPage(c echo.Context) error {
	return h.settingsPage(c, http.StatusOK, views.Settings{})
}

// settingsPage shows the Settings page with v's forms; it fills in the
// catalog, and the retention if v has none.
func (h *handler) settingsPage(c echo.Context, status int, v views.Settings) error {
	ctx := c.Request().Context()
	days, err := h.store.EventRetention(ctx)
	if err != nil {
		return err
	}
	v.SavedRetention = strconv.Itoa(days)
	if v.RetentionDays == "" && !v.Errors.Any() {
		v.RetentionDays = v.SavedRetention
	}
	if v.Permissions, err = h.store.PermissionUses(ctx, scope(c)); err != nil {
		return err
	}
	// The jobs work on every organization, and their errors may name any
	// of them: only those who see the whole tree see them.
	if scope(c).Whole() {
		if v.Jobs, err = h.jobRows(ctx); err != nil {
			return err
		}
	}
	return render(c, status, views.SettingsPage(h.page(c, "Settings", "settings"), v), nil)
}

func (h *handler) saveSettings(c echo.Context) error {
	v := views.Settings{RetentionDays: strings.TrimSpace(c.FormValue("retention_days"))}
	days, err := strconv.Atoi(v.RetentionDays)
	if err != nil {
		v.Errors.Add("retention_days", "Enter a whole number of days, or 0 to keep events for good.")
		return h.settingsPage(c, http.StatusUnprocessableEntity, v)
	}
	if err := h.store.SetEventRetention(c.Request().Context(), h.actor(c), days); err != nil {
		if err := v.Errors.Take(err); err != nil {
			return err
		}
		return h.settingsPage(c, http.StatusUnprocessableEntity, v)
	}
	h.addFlash(c, false, "Settings saved.")
	return c.Redirect(http.StatusSeeOther, urls.Settings)
}

// createPermission adds a permission to the catalog.
func (h *handler) createPermission(c echo.Context) error {
	in := store.Permission{Name: c.FormValue("name"), Description: c.FormValue("description")}
	p, err := h.store.CreatePermission(c.Request().Context(), h.actor(c), in)
	if err != nil {
		v := views.Settings{NewPermission: in}
		if err := v.Errors.Take(err); err != nil {
			return err
		}
		return h.settingsPage(c, http.StatusUnprocessableEntity, v)
	}
	h.addFlash(c, false, "Permission “"+p.Name+"” added.")
	return c.Redirect(http.StatusSeeOther, urls.Settings)
}

// deletePermission removes a permission that no key has.
func (h *handler) deletePermission(c echo.Context) error {
	name := c.Param("name")
	if err := h.store.DeletePermission(c.Request().Context(), h.actor(c), name); err != nil {
		return err
	}
	h.addFlash(c, false, "Permission “"+name+"” deleted.")
	return c.Redirect(http.StatusSeeOther, urls.Settings)
}

// jobRows lists every background job with what the database knows of it.
func (h *handler) jobRows(ctx context.Context) ([]views.JobRow, error) {
	states, err := h.store.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.JobState, len(states))
	for _, s := range states {
		byName[s.Name] = s
	}
	rows := make([]views.JobRow, 0, len(jobs.Catalog))
	for _, j := range jobs.Catalog {
		st := byName[j.Name]
		st.Name = j.Name
		rows = append(rows, views.JobRow{Title: j.Title, About: j.About, Every: j.Every, State: st})
	}
	return rows, nil
}
