// Package urls builds every address of the console, in one place: the
// views link to them, the handlers redirect to them, and web/routes.go
// registers the same paths. It depends on nothing of Keydesk's.
package urls

import (
	"net/url"
	"strconv"
)

// Addresses that take no argument.
const (
	Home                = "/"
	Login               = "/login"
	Logout              = "/logout"
	Profile             = "/profile"
	ProfilePassword     = "/profile/password"
	ProfileNotices      = "/profile/notices"
	ProfileCalendar     = "/profile/calendar"
	ProfileTokens       = "/profile/tokens"
	Keys                = "/keys"
	KeyNew              = "/keys/new"
	KeyTest             = "/keys/test"
	KeysBulk            = "/keys/bulk"
	KeysExport          = "/keys/export.csv"
	Users               = "/users"
	UserNew             = "/users/new"
	Roles               = "/roles"
	RoleNew             = "/roles/new"
	Orgs                = "/orgs"
	Events              = "/events"
	EventsExport        = "/events/export.csv"
	Settings            = "/settings"
	SettingsPermissions = "/settings/permissions"
	Webhooks            = "/webhooks"
	Activity            = "/activity"
	ActivityExport      = "/activity.csv"
)

// Key is a key's page; KeyAction one of its actions ("revoke", …).
func Key(id string) string { return Keys + "/" + url.PathEscape(id) }

func KeyAction(id, action string) string { return Key(id) + "/" + action }

// KeyCopy is the New API key form filled from a key.
func KeyCopy(id string) string { return KeyNew + "?copy=" + url.QueryEscape(id) }

// KeyHighlight is the key list with a key marked, as after creating it.
func KeyHighlight(id string) string { return Keys + "?highlight=" + url.QueryEscape(id) }

// KeysCreatedBy lists the keys one person created.
func KeysCreatedBy(username string) string {
	return WithQuery(Keys, url.Values{"created_by": {username}})
}

// User is a user's page; UserAction one of its actions.
func User(id int64) string { return Users + "/" + strconv.FormatInt(id, 10) }

func UserAction(id int64, action string) string { return User(id) + "/" + action }

// Role is a role's page; RoleAction one of its actions.
func Role(id int64) string { return Roles + "/" + strconv.FormatInt(id, 10) }

func RoleAction(id int64, action string) string { return Role(id) + "/" + action }

// Org is an organization's page; OrgAction one of its actions.
func Org(id string) string { return Orgs + "/" + url.PathEscape(id) }

func OrgAction(id, action string) string { return Org(id) + "/" + action }

// Webhook is a webhook's page; WebhookAction one of its actions ("test",
// "delete").
func Webhook(id string) string { return Webhooks + "/" + url.PathEscape(id) }

func WebhookAction(id, action string) string { return Webhook(id) + "/" + action }

// DeliverySendAgain sends a webhook's delivery again.
func DeliverySendAgain(id, msgID string) string {
	return Webhook(id) + "/deliveries/" + url.PathEscape(msgID) + "/send"
}

// ActivityOver is the Activity page over a period ("24h", "7d", "30d").
func ActivityOver(period string) string { return WithQuery(Activity, url.Values{"period": {period}}) }

// ActivityExportOver downloads the Activity page's figures over a period.
func ActivityExportOver(period string) string {
	return WithQuery(ActivityExport, url.Values{"period": {period}})
}

// UserTokenRevoke revokes one of a user's access tokens.
func UserTokenRevoke(user int64, token string) string {
	return UserAction(user, "tokens/"+url.PathEscape(token)+"/revoke")
}

// ProfileTokenRevoke revokes one of the user's access tokens.
func ProfileTokenRevoke(id string) string {
	return ProfileTokens + "/" + url.PathEscape(id) + "/revoke"
}

// Calendar is the address of the calendar feed with this token.
func Calendar(token string) string { return "/calendar/" + url.PathEscape(token) + ".ics" }

// PermissionDelete deletes a permission of the catalog.
func PermissionDelete(name string) string {
	return SettingsPermissions + "/" + url.PathEscape(name) + "/delete"
}

// EventsSearch is the audit log searched for words.
func EventsSearch(q string) string { return WithQuery(Events, url.Values{"q": {q}}) }

// LoginNext is the login page, going on to next afterwards.
func LoginNext(next string) string { return WithQuery(Login, url.Values{"next": {next}}) }

// WithQuery is path with the query v, or path alone when v is empty.
func WithQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
