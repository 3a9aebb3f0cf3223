package views

import (
	"encoding/csv"
	"fmt"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

// KeyList is the API keys page.
type KeyList struct {
	Params      form.KeyListParams
	Page        store.KeyPage
	Permissions []store.Permission
	Creators    []string
	Highlight   string // public id of a key to mark, such as one just created
	From        int    // the position of the page's first key, 0 when not known
	// Orgs is the viewer's part of the organization tree, their own first:
	// the menu, and the paths of the Organization column.
	Orgs    []store.Org
	PerPage int // the page size, for the position of the page before
	// Soon is the keys about to expire, in the organization the list is
	// filtered to: the panel above the list.
	Soon store.Soon
	// Sparklines are the page's keys' verifications by hour, by id.
	Sparklines map[string][]int64
}

// noKeys reports whether there are no keys at all, as opposed to none
// that match.
func (v KeyList) noKeys() bool { return v.Page.Total == 0 && !v.Params.Filtered() }

// countText says how many keys the list holds.
func (v KeyList) countText() string {
	total := plural(v.Page.Total, "key", "keys")
	if v.Params.Filtered() {
		total = plural(v.Page.Total, "key matches", "keys match")
		if v.Page.Total == 1 {
			total = "1 key matches"
		}
	}
	n := len(v.Page.Keys)
	if v.Page.More {
		// The store stops counting there: "More than 10,000 keys match".
		total = "more than " + total
		if v.From == 0 {
			return "More than " + strings.TrimPrefix(total, "more than ")
		}
	}
	if n == 0 || (n == v.Page.Total && !v.Page.More) || v.From == 0 {
		return total
	}
	// "51–100 of 1,204 keys"
	return thousands(v.From) + "–" + thousands(v.From+n-1) + " of " + total
}

// nextAt and prevAt are the positions of the pages beside this one, or 0
// when this page's is not known.
func (v KeyList) nextAt() int {
	if v.From == 0 {
		return 0
	}
	return v.From + len(v.Page.Keys)
}

func (v KeyList) prevAt() int {
	if v.From == 0 {
		return 0
	}
	return max(v.From-v.PerPage, 1)
}

// exportURL downloads what the list shows.
func (v KeyList) exportURL() string {
	return urls.WithQuery(urls.KeysExport, v.Params.Values())
}

func statusFilterLabel(st store.StatusFilter) string {
	switch st {
	case store.FilterAvailable:
		return "Available"
	case store.FilterUnavailable:
		return "Unavailable"
	case store.FilterSoon:
		return "Soon unavailable"
	case store.FilterDisabled:
		return "Disabled"
	}
	return string(st)
}

// statusFilterShort is a status button's label on a phone.
func statusFilterShort(st store.StatusFilter) string {
	if st == store.FilterSoon {
		return "Soon"
	}
	return statusFilterLabel(st)
}

func sortLabel(s store.KeySort, desc bool) string {
	dir := "ascending"
	if desc {
		dir = "descending"
	}
	return fmt.Sprintf("sorted by %s, %s", s, dir)
}

// ariaSort is the aria-sort of a column header.
func (v KeyList) ariaSort(s store.KeySort) string {
	switch {
	case v.Params.Sort != s:
		return "none"
	case v.Params.Desc:
		return "descending"
	}
	return "ascending"
}

func (v KeyList) sortArrow(s store.KeySort) string {
	switch {
	case v.Params.Sort != s:
		return "↕"
	case v.Params.Desc:
		return "▼"
	}
	return "▲"
}

// canBulk reports whether the user may do any bulk action.
func canBulk(p Page) bool {
	return p.Can(store.RightKeysUpdate) || p.Can(store.RightKeysDelete)
}

// keyURL links to a key's details.
func keyURL(id string) templ.SafeURL { return templ.SafeURL(urls.Key(id)) }

// keyActionURL is where a key's lifecycle form posts.
func keyActionURL(id, action string) templ.SafeURL {
	return templ.SafeURL(urls.KeyAction(id, action))
}

func copyURL(id string) templ.SafeURL { return templ.SafeURL(urls.KeyCopy(id)) }

func enableAction(k store.Key) string {
	if k.Enabled {
		return "disable"
	}
	return "enable"
}

func enableLabel(k store.Key) string {
	if k.Enabled {
		return "Disable"
	}
	return "Enable"
}

func onOff(b bool) string {
	if b {
		return "On"
	}
	return "Off"
}

func revokeMessage(store.Key) string {
	return "Services using it will be refused at once. Revocation cannot be undone: the key can never be used again."
}

func deleteMessage(store.Key) string {
	return "It disappears from the list and stops working; its history stays in the audit log. This cannot be undone."
}

// anyInGrace reports whether a previous secret among secrets still works.
func anyInGrace(secrets []store.Secret, now time.Time) bool {
	for _, s := range secrets {
		if s.InGrace(now) {
			return true
		}
	}
	return false
}

// rotateMessage is the confirmation of a rotation.
func rotateMessage(k store.Key) string {
	return "The new secret is shown once. The current secret of " + quoted(k.Name) + " keeps working for the grace period you chose; with 0 days it stops at once."
}

// confirmTitle asks the question of a confirmation: "Revoke “billing”?".
func confirmTitle(button string, k store.Key) string {
	verb, _, _ := strings.Cut(button, " ")
	if button == "Expire now" {
		return "Expire " + quoted(k.Name) + " now?"
	}
	return verb + " " + quoted(k.Name) + "?"
}

// switchAttrs make the enabled switch post through htmx and swap target
// with the answer, where there is a target; otherwise it is a plain form.
func switchAttrs(k store.Key, target string) templ.Attributes {
	if target == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{
		"hx-post":   string(keyActionURL(k.ID, enableAction(k))),
		"hx-target": target,
		"hx-swap":   "outerHTML",
	}
}

// verifyCodeText explains a verification code to a person.
func verifyCodeText(code string) string {
	switch code {
	case store.CodeMalformed:
		return "this is not a Keydesk key, or it has a typo (its checksum does not match)."
	case store.CodeNotFound:
		return "no key has this secret. It may have been deleted."
	case store.CodeRevoked:
		return "the key was revoked."
	case store.CodeExpired:
		return "the key has expired."
	case store.CodeDisabled:
		return "the key is disabled."
	case store.CodePermissionDenied:
		return "the key does not have this permission."
	case store.CodeRateLimited:
		return "the key has used up its rate limit for now."
	}
	return code
}

// statusFilterHint says what a status button selects.
func statusFilterHint(st store.StatusFilter) string {
	switch st {
	case store.FilterAvailable:
		return "Neither revoked nor expired (disabled keys included)"
	case store.FilterUnavailable:
		return "Revoked or expired"
	case store.FilterSoon:
		return "Available now, expiring within 30 days"
	case store.FilterDisabled:
		return "Switched off, neither revoked nor expired"
	}
	return ""
}

// sortOptions are the orders the phone layout offers in one menu.
var sortOptions = []struct{ value, label string }{
	{"name", "Name, A to Z"}, {"name:desc", "Name, Z to A"},
	{"expires", "Expiring soonest"}, {"expires:desc", "Expiring latest"},
	{"created:desc", "Newest"}, {"created", "Oldest"},
	{"last_used:desc", "Used most recently"}, {"uses:desc", "Most used"},
	{"status", "Status"}, {"created_by", "Creator"},
}

// sortOptions are the phone menu's orders, with the list's own order among
// them: the menu is always sent, and must send back the order in force.
func (v KeyList) sortOptions() []struct{ value, label string } {
	for _, o := range sortOptions {
		if o.value == v.sortValue() {
			return sortOptions
		}
	}
	dir := "ascending"
	if v.Params.Desc {
		dir = "descending"
	}
	current := struct{ value, label string }{v.sortValue(), "By " + strings.ReplaceAll(string(v.Params.Sort), "_", " ") + ", " + dir}
	return append([]struct{ value, label string }{current}, sortOptions...)
}

// sortValue is the list's order as a sort_by value.
func (v KeyList) sortValue() string {
	if v.Params.Desc {
		return string(v.Params.Sort) + ":desc"
	}
	return string(v.Params.Sort)
}

// showOrgs reports whether the list has an Organization column: when the
// viewer's scope holds more than one organization.
func (v KeyList) showOrgs() bool { return len(v.Orgs) > 1 }

// orgPath is the path of k's organization in the list, "" when the list
// shows no organizations.
func (v KeyList) OrgPath(k store.Key) string {
	if !v.showOrgs() {
		return ""
	}
	for _, o := range v.Orgs {
		if o.ID == k.OrgID {
			return o.Path
		}
	}
	return ""
}

// canCopySecret reports whether the list offers to copy a key's secret:
// a recoverable key that still works, to someone who may reveal it.
func canCopySecret(p Page, k store.Key) bool {
	return k.SecretKept && k.Usable(p.Now) && p.Can(store.RightKeysReveal)
}

// rotatedCSV writes the new secrets of a bulk rotation as CSV text.
func rotatedCSV(rotated []store.Rotation) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"id", "name", "secret"})
	for _, r := range rotated {
		w.Write([]string{r.Key.ID, form.CSVCell(r.Key.Name), r.Secret})
	}
	w.Flush()
	return b.String()
}

// soonText says how many keys expire soon.
func soonText(s store.Soon) string {
	within := " within " + plural(int(store.SoonWindow/(24*time.Hour)), "day", "days")
	if s.More {
		return "More than " + thousands(s.Total) + " keys expire" + within
	}
	if s.Total == 1 {
		return "1 key expires" + within
	}
	return thousands(s.Total) + " keys expire" + within
}

// badgeCount is the count in the navigation's badge: short.
func badgeCount(s store.Soon) string {
	if s.Total > 99 {
		return "99+"
	}
	return itoa(s.Total)
}

// soonURL lists the keys about to expire in an organization (its public
// id; "" for all the viewer's), nearest first.
func soonURL(org string) string {
	return form.KeyListParams{Statuses: []store.StatusFilter{store.FilterSoon}, Sort: store.SortExpires, Org: org}.PageURL()
}
