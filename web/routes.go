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

	api := e.Group("/api/v1")
	// For services: no session; the verify token, when configured
	api.POST("/keys/verify", h.verifyKey)
	api.GET("/status", h.apiStatus)
	api.GET("/openapi.json", h.apiDocument)
	// For automation: the management API, with an access token, given on
	// each route: the group's own middleware would answer unknown paths
	// with 401 rather than 404
	token := h.requireToken
	apiRead := h.requireAPIRights(store.RightKeysView, store.RightKeysRead)
	apiUpdate := h.requireAPIRights(store.RightKeysView, store.RightKeysRead, store.RightKeysUpdate)
	api.GET("/me", h.apiMe, token)
	api.GET("/permissions", h.apiPermissions, token)
	api.POST("/permissions", h.apiCreatePermission, token, h.requireAPIRights(store.RightSettings), h.idempotent)
	api.POST("/apikeys", h.apiCreateKey, token, h.requireAPIRights(store.RightKeysView, store.RightKeysRead, store.RightKeysCreate), h.idempotent)
	api.POST("/apikeys/bulk", h.apiBulkKeys, token, apiRead, h.idempotent) // the action's own right inside
	api.GET("/apikeys", h.apiListKeys, token, apiRead)
	api.GET("/apikeys/:id", h.apiShowKey, token, apiRead)
	api.PATCH("/apikeys/:id", h.apiUpdateKey, token, apiUpdate)
	api.POST("/apikeys/:id/revoke", h.apiRevokeKey, token, apiUpdate, h.idempotent)
	api.POST("/apikeys/:id/rotate", h.apiRotateKey, token, apiUpdate, h.idempotent)
	api.DELETE("/apikeys/:id", h.apiDeleteKey, token, h.requireAPIRights(store.RightKeysView, store.RightKeysRead, store.RightKeysDelete))
	api.GET("/tenants", h.apiListTenants, token)
	api.POST("/tenants", h.apiCreateTenant, token, h.requireAPIRights(store.RightOrgs), h.idempotent)
	api.GET("/events", h.apiListEvents, token, h.requireAPIRights(store.RightAudit))
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
