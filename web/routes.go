package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/static"
	"github.com/keydesk/keydesk/store"
)

func (h *handler) routes(e *echo.Echo) {
	// Open to all
	e.GET("/healthz", h.health)
	e.GET("/readyz", h.ready)
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", staticFiles(static.Files))))
	e.GET("/login", h.showLoginPage)
	e.POST("/login", h.login)
	// A calendar feed: its token is its credential
	e.GET("/calendar/:file", h.showCalendarFeed)

	// For services: no session; the verify token, when configured
	e.POST("/api/v1/keys/verify", h.verifyKey)
	e.GET("/api/v1/status", h.apiStatus)
	// For automation: the management API, with an access token (on each
	// route: a group's middleware would answer unknown paths too)
	e.GET("/api/v1/me", h.apiMe, h.requireToken)
	e.GET("/api/v1/permissions", h.apiPermissions, h.requireToken)
	e.POST("/api/v1/apikeys", h.apiCreateKey, h.requireToken, h.requireAPIRights(store.RightKeysView, store.RightKeysRead, store.RightKeysCreate), h.idempotent)
	e.POST("/api/v1/apikeys/bulk", h.apiBulkKeys, h.requireToken, h.requireAPIRights(store.RightKeysView, store.RightKeysRead), h.idempotent) // the action's own right inside
	e.GET("/api/v1/apikeys", h.apiListKeys, h.requireToken, h.requireAPIRights(store.RightKeysView, store.RightKeysRead))
	e.GET("/api/v1/apikeys/:id", h.apiShowKey, h.requireToken, h.requireAPIRights(store.RightKeysView, store.RightKeysRead))
	apiUpdate := h.requireAPIRights(store.RightKeysView, store.RightKeysRead, store.RightKeysUpdate)
	e.PATCH("/api/v1/apikeys/:id", h.apiUpdateKey, h.requireToken, apiUpdate)
	e.POST("/api/v1/apikeys/:id/revoke", h.apiRevokeKey, h.requireToken, apiUpdate, h.idempotent)
	e.POST("/api/v1/apikeys/:id/rotate", h.apiRotateKey, h.requireToken, apiUpdate, h.idempotent)
	e.DELETE("/api/v1/apikeys/:id", h.apiDeleteKey, h.requireToken, h.requireAPIRights(store.RightKeysView, store.RightKeysRead, store.RightKeysDelete))
	e.GET("/api/v1/tenants", h.apiListTenants, h.requireToken)
	e.POST("/api/v1/tenants", h.apiCreateTenant, h.requireToken, h.requireAPIRights(store.RightOrgs), h.idempotent)
	e.GET("/api/v1/events", h.apiListEvents, h.requireToken, h.requireAPIRights(store.RightAudit))
	e.RouteNotFound("/api/*", h.apiNotFound) // JSON 404 or 405, never the login page

	// Logged in
	in := e.Group("", h.requireLogin)
	in.GET("/", h.showHome)
	in.POST("/logout", h.logout)

	// API keys
	view, read := store.RightKeysView, store.RightKeysRead
	in.GET("/keys", h.showKeyListPage, h.requireRights(view, read))
	in.GET("/keys/export.csv", h.exportKeys, h.requireRights(view, read), compressCSV())
	in.GET("/keys/new", h.showKeyNewPage, h.requireRights(view, read, store.RightKeysCreate))
	in.POST("/keys", h.createKey, h.requireRights(view, read, store.RightKeysCreate))
	in.POST("/keys/bulk", h.changeKeys, h.requireRights(view, read)) // the action's own right is checked inside
	in.GET("/keys/test", h.showKeyTestPage, h.requireRights(view, read))
	in.POST("/keys/test", h.checkKey, h.requireRights(view, read))
	in.GET("/keys/:id", h.showKeyDetailsPage, h.requireRights(view, read))
	in.POST("/keys/:id/enable", h.enableKey, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/disable", h.disableKey, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/expire", h.expireKey, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/revoke", h.revokeKey, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/rename", h.renameKey, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/rate-limit", h.setKeyRateLimit, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/rotate", h.rotateKey, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/end-grace", h.endKeyGrace, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/schedule", h.setKeySchedule, h.requireRights(view, read, store.RightKeysUpdate))
	in.POST("/keys/:id/reveal", h.revealKey, h.requireRights(view, read, store.RightKeysReveal))
	in.POST("/keys/:id/delete", h.deleteKey, h.requireRights(view, read, store.RightKeysDelete))

	// Their use over time
	in.GET("/activity", h.showActivityPage, h.requireRights(view, read))
	in.GET("/activity.csv", h.exportActivity, h.requireRights(view, read), compressCSV())

	// Users and roles
	users := h.requireRights(store.RightUsers)
	in.GET("/users", h.showUserListPage, users)
	in.GET("/users/new", h.showUserNewPage, users)
	in.POST("/users", h.createUser, users)
	in.GET("/users/:id", h.showUserPage, users)
	in.POST("/users/:id/role", h.setUserRole, users)
	in.POST("/users/:id/org", h.setUserOrg, users)
	in.POST("/users/:id/password", h.resetPassword, users)
	in.POST("/users/:id/disable", h.disableUser, users)
	in.POST("/users/:id/enable", h.enableUser, users)
	in.POST("/users/:id/delete", h.deleteUser, users)
	in.POST("/users/:id/tokens/:token/revoke", h.revokeUserToken, users)
	in.GET("/roles", h.showRoleListPage, users)
	in.GET("/roles/new", h.showRoleNewPage, users)
	in.POST("/roles", h.createRole, users)
	in.GET("/roles/:id", h.showRolePage, users)
	in.POST("/roles/:id", h.updateRole, users)
	in.POST("/roles/:id/delete", h.deleteRole, users)

	// Organizations
	in.GET("/orgs", h.showOrgListPage, h.requireAnyRight(store.RightOrgs, store.RightSettings))
	in.POST("/orgs", h.createOrg, h.requireRights(store.RightOrgs))
	in.GET("/orgs/:id", h.showOrgPage, h.requireAnyRight(store.RightOrgs, store.RightSettings))
	in.POST("/orgs/:id", h.updateOrg, h.requireRights(store.RightOrgs))
	in.POST("/orgs/:id/policy", h.setOrgPolicy, h.requireRights(store.RightSettings))
	in.POST("/orgs/:id/delete", h.deleteOrg, h.requireRights(store.RightOrgs))

	// Audit log and settings
	in.GET("/events", h.showEventListPage, h.requireRights(store.RightAudit))
	in.GET("/events/export.csv", h.exportEvents, h.requireRights(store.RightAudit), compressCSV())
	in.GET("/settings", h.showSettingsPage, h.requireRights(store.RightSettings))
	in.POST("/settings", h.saveSettings, h.requireRights(store.RightSettings))
	in.POST("/settings/permissions", h.createPermission, h.requireRights(store.RightSettings))
	in.POST("/settings/permissions/:name/delete", h.deletePermission, h.requireRights(store.RightSettings))

	// Webhooks
	hooks := h.requireRights(store.RightSettings)
	in.GET("/webhooks", h.showWebhookListPage, hooks)
	in.POST("/webhooks", h.createWebhook, hooks)
	in.GET("/webhooks/:id", h.showWebhookPage, hooks)
	in.POST("/webhooks/:id/test", h.testWebhook, hooks)
	in.POST("/webhooks/:id/delete", h.deleteWebhook, hooks)
	in.POST("/webhooks/:id/deliveries/:msg/send", h.resendDelivery, hooks)

	// Your own account
	in.GET("/profile", h.showProfilePage)
	in.POST("/profile/password", h.changePassword)
	in.POST("/profile/notices", h.saveNotices)
	in.POST("/profile/calendar", h.createCalendarToken)
	in.POST("/profile/calendar/delete", h.revokeCalendar)
	// A token holds some of its maker's rights: with none, there is nothing to give it.
	in.POST("/profile/tokens", h.createToken, h.requireAnyRight(store.AllRights()...))
	in.POST("/profile/tokens/:id/revoke", h.revokeToken)
}
