package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// health answers liveness probes: the process is up. It reads nothing.
func (h *handler) health(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// ready answers readiness probes: ok when the database can be read now, 503
// with the reason when it cannot.
func (h *handler) ready(c echo.Context) error {
	if err := h.store.Ready(c.Request().Context()); err != nil {
		h.log.Warn("not ready", "err", err)
		return c.String(http.StatusServiceUnavailable, err.Error()+"\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// showHome sends people to the first page they may use.
func (h *handler) showHome(c echo.Context) error {
	u, _ := currentUser(c)
	switch {
	case u.Can(store.RightKeysView, store.RightKeysRead):
		return c.Redirect(http.StatusSeeOther, urls.Keys)
	case u.Can(store.RightUsers):
		return c.Redirect(http.StatusSeeOther, urls.Users)
	}
	return c.Redirect(http.StatusSeeOther, urls.Profile)
}

// staticFiles serves the embedded assets, files only: a directory is not
// found rather than listed. Their URLs carry a content hash, so browsers may
// keep them for good.
func staticFiles(files fs.FS) http.Handler {
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if info, err := fs.Stat(files, name); err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		fileServer.ServeHTTP(w, r)
	})
}
