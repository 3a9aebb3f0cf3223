package web

import (
	"log/slog"
	"time"

	"github.com/gorilla/sessions"

	"github.com/keydesk/keydesk/store"
)

// handler holds what every handler needs. It holds no per-request state.
type handler struct {
	store   *store.Store
	cfg     Config
	log     *slog.Logger
	cookies *sessions.CookieStore
	// apiLimits holds each access token's allowance on the management API.
	apiLimits apiLimits
}

// now is the console's clock: the store's, so that what a page shows and
// what the store records agree (tests move it).
func (h *handler) now() time.Time { return h.store.Now() }
