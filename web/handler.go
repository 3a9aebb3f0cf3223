package web

import (
	"log/slog"

	"github.com/gorilla/sessions"

	"github.com/keydesk/keydesk/store"
)

// handler holds what every handler needs. It holds no per-request state.
type handler struct {
	store   *store.Store
	cfg     Config
	log     *slog.Logger
	cookies *sessions.CookieStore
}
