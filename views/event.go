package views

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/keydesk/keydesk/store"
)

var actionLabels = map[string]string{
	store.ActionKeyCreated:        "Key created",
	store.ActionKeyCopied:         "Key duplicated",
	store.ActionKeyEnabled:        "Key enabled",
	store.ActionKeyDisabled:       "Key disabled",
	store.ActionKeyExpirySet:      "Key expiry set",
	store.ActionKeyExpiryClear:    "Key set to never expire",
	store.ActionKeyExpired:        "Key expired now",
	store.ActionKeyRevoked:        "Key revoked",
	store.ActionKeyDeleted:        "Key deleted",
	store.ActionKeyRenamed:        "Key renamed",
	store.ActionKeyRateLimitSet:   "Key rate limit set",
	store.ActionKeyRotated:        "Key rotated",
	store.ActionKeyGraceEnded:     "Key's grace ended",
	store.ActionKeyRevealed:       "Key's secret revealed",
	store.ActionKeyScheduleSet:    "Key rotation schedule set",
	store.ActionKeysExported:      "Keys exported",
	store.ActionUserCreated:       "User created",
	store.ActionUserRoleChanged:   "User's role changed",
	store.ActionUserDisabled:      "User disabled",
	store.ActionUserEnabled:       "User enabled",
	store.ActionUserDeleted:       "User deleted",
	store.ActionPasswordChanged:   "Password changed",
	store.ActionPasswordReset:     "Password reset",
	store.ActionUserUnlocked:      "Failed logins cleared",
	store.ActionRoleCreated:       "Role created",
	store.ActionRoleUpdated:       "Role changed",
	store.ActionRoleDeleted:       "Role deleted",
	store.ActionLoginSucceeded:    "Logged in",
	store.ActionLoginFailed:       "Login failed",
	store.ActionLogout:            "Logged out",
	store.ActionAccessDenied:      "Access denied",
	store.ActionSettingsChanged:   "Settings changed",
	store.ActionPermissionCreated: "Permission added",
	store.ActionPermissionDeleted: "Permission deleted",
	store.ActionEventsExported:    "Events exported",
	store.ActionEventsPruned:      "Old events deleted",
	store.ActionUserMoved:         "User moved",
	store.ActionOrgCreated:        "Organization created",
	store.ActionOrgUpdated:        "Organization changed",
	store.ActionOrgDeleted:        "Organization deleted",
	store.ActionOrgPolicyChanged:  "Organization policy changed",
	store.ActionNoticesChanged:    "Notices changed",
	store.ActionCalendarCreated:   "Calendar address made",
	store.ActionCalendarRevoked:   "Calendar address ended",
	store.ActionWebhookCreated:    "Webhook added",
	store.ActionWebhookDeleted:    "Webhook deleted",
	store.ActionWebhookTested:     "Webhook test event sent",
	store.ActionWebhookResent:     "Webhook delivery sent again",
	store.ActionKeyUsageSpike:     "Key's use spiked",
	store.ActionOrgRefusalsSpike:  "Refusals spiked",
	store.ActionActivityExported:  "Activity exported",
	store.ActionTokenCreated:      "Access token created",
	store.ActionTokenRevoked:      "Access token revoked",
	store.NoticeExpiring:          "Key expiring (notice)",
	store.NoticeRotationDue:       "Key rotation due (notice)",
	store.NoticeGraceEnding:       "Key's grace ending (notice)",
}

// actionLabel names an action in words.
func actionLabel(action string) string {
	if l, ok := actionLabels[action]; ok {
		return l
	}
	return action
}

// actionClass colours the actions that deserve a second look.
func actionClass(action string) string {
	switch action {
	case store.ActionKeyRevoked, store.ActionKeyDeleted, store.ActionUserDeleted, store.ActionRoleDeleted,
		store.ActionLoginFailed, store.ActionAccessDenied, store.ActionKeyRevealed:
		return "action-alert"
	}
	return ""
}

// hasMore reports whether an event has more to show than its row does:
// details, or the bulk action it was part of.
func hasMore(e store.Event) bool {
	return len(e.Details) > 0 || e.BulkID != ""
}

// targetURL links to the user or role an event was about.
func targetURL(kind, id string) templ.SafeURL {
	return templ.SafeURL("/" + kind + "/" + url.PathEscape(id))
}

// changeLines writes each changed field as "field: before → after".
func changeLines(e store.Event) []string {
	fields := make([]string, 0, len(e.Changes))
	for f := range e.Changes {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	lines := make([]string, 0, len(fields))
	for _, f := range fields {
		c := e.Changes[f]
		lines = append(lines, fmt.Sprintf("%s: %s → %s", strings.ReplaceAll(f, "_", " "), valueText(c.Before), valueText(c.After)))
	}
	return lines
}

// detailLines lists an event's details, sorted by name.
func detailLines(e store.Event) [][2]string {
	names := make([]string, 0, len(e.Details))
	for n := range e.Details {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([][2]string, 0, len(names))
	for _, n := range names {
		out = append(out, [2]string{strings.ReplaceAll(n, "_", " "), valueText(e.Details[n])})
	}
	return out
}

func valueText(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return exactTime(t)
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case float64:
		return thousands(int(v))
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = valueText(x)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// eventCount says how many events match: exactly up to the store's count
// limit, and honestly beyond it.
func eventCount(page store.EventPage) string {
	if page.More {
		return "More than " + thousands(store.EventCountLimit) + " events"
	}
	return plural(page.Total, "event", "events")
}
