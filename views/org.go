package views

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

// OrgForm creates, renames or moves an organization, as typed.
type OrgForm struct {
	Name     string
	ParentID string
	Errors   form.Errors
}

// ParseOrgForm reads the form from posted values.
func ParseOrgForm(v url.Values) OrgForm {
	return OrgForm{Name: v.Get("name"), ParentID: strings.TrimSpace(v.Get("parent_id"))}
}

// Validate checks the name; the store checks the parent, which only it
// can see.
func (f *OrgForm) Validate() bool {
	f.Errors = nil
	if msg := store.OrgNameProblem(strings.TrimSpace(f.Name)); msg != "" {
		f.Errors.Add("name", msg)
	}
	return !f.Errors.Any()
}

// PolicyForm is an organization's own policy, as typed: an empty number is
// no limit (no schedule, the default grace period).
type PolicyForm struct {
	APIKeysEnabled  bool
	MaxExpiryDays   string
	MaxKeysPerUser  string
	RecoverableKeys bool
	RotateEveryDays string
	GraceDays       string
	DeleteAfterDays string
	NoticeDays      string
	SpikeMultiple   string
	SpikeFloor      string
	Errors          form.Errors
}

// PolicyFormOf fills the form with a saved policy.
func PolicyFormOf(p store.Policy) PolicyForm {
	f := PolicyForm{
		APIKeysEnabled: p.APIKeysEnabled, MaxExpiryDays: limitText(p.MaxExpiryDays), MaxKeysPerUser: limitText(p.MaxKeysPerUser),
		RecoverableKeys: p.RecoverableKeys, RotateEveryDays: limitText(p.RotateEveryDays),
		DeleteAfterDays: limitText(p.DeleteAfterDays), NoticeDays: strings.ReplaceAll(p.NoticeDays, ",", ", "),
		SpikeMultiple: limitText(p.SpikeMultiple), SpikeFloor: limitText(p.SpikeFloor),
	}
	if p.GraceSet {
		f.GraceDays = strconv.Itoa(p.GraceDays)
	}
	return f
}

// ParsePolicyForm reads the form from posted values; an absent checkbox is
// off.
func ParsePolicyForm(v url.Values) PolicyForm {
	return PolicyForm{
		APIKeysEnabled:  v.Get("api_keys_enabled") == "on",
		MaxExpiryDays:   strings.TrimSpace(v.Get("max_expiry_days")),
		MaxKeysPerUser:  strings.TrimSpace(v.Get("max_keys_per_user")),
		RecoverableKeys: v.Get("recoverable_keys") == "on",
		RotateEveryDays: strings.TrimSpace(v.Get("rotate_every_days")),
		GraceDays:       strings.TrimSpace(v.Get("grace_days")),
		DeleteAfterDays: strings.TrimSpace(v.Get("delete_after_days")),
		NoticeDays:      strings.TrimSpace(v.Get("notice_days")),
		SpikeMultiple:   strings.TrimSpace(v.Get("spike_multiple")),
		SpikeFloor:      strings.TrimSpace(v.Get("spike_floor")),
	}
}

// Validate reads the numbers and returns the policy to save; the store's
// rules say what is out of range.
func (f *PolicyForm) Validate() (store.Policy, bool) {
	f.Errors = nil
	// A number that does not parse is out of range: the store's message
	// says what to type.
	number := func(s string, empty int) int {
		if s == "" {
			return empty
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return -1
		}
		if n == 0 && empty == 0 {
			return -1 // 0 is not a limit; empty is
		}
		return n
	}
	p := store.Policy{
		APIKeysEnabled:  f.APIKeysEnabled,
		MaxExpiryDays:   number(f.MaxExpiryDays, 0),
		MaxKeysPerUser:  number(f.MaxKeysPerUser, 0),
		RecoverableKeys: f.RecoverableKeys,
		RotateEveryDays: number(f.RotateEveryDays, 0),
		GraceSet:        f.GraceDays != "",
		DeleteAfterDays: number(f.DeleteAfterDays, 0),
		NoticeDays:      f.NoticeDays,
		SpikeMultiple:   number(f.SpikeMultiple, 0),
		SpikeFloor:      number(f.SpikeFloor, 0),
	}
	if p.GraceSet {
		p.GraceDays = number(f.GraceDays, -1)
	}
	for _, e := range p.Problems() {
		f.Errors.Add(e.Field, e.Message)
	}
	return p, !f.Errors.Any()
}

func limitText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// OrgList is the Organizations page.
type OrgList struct {
	Orgs []store.Org // the user's scope, in tree order
	Form OrgForm     // the New organization form
}

// OrgDetails is one organization's page.
type OrgDetails struct {
	Org  store.Org
	Tree []store.Org // the user's scope, in tree order: parents to choose from
	Form OrgForm     // rename and move
	// Policy is the organization's own policy form.
	Policy PolicyForm
	// DeleteError says why a delete was refused.
	DeleteError string
}

func orgURL(id string) templ.SafeURL { return templ.SafeURL(urls.Org(id)) }

func orgActionURL(id, action string) templ.SafeURL {
	return templ.SafeURL(urls.OrgAction(id, action))
}

// treeIndent sets a name in by its depth: em spaces, which HTML does not
// collapse, and a corner before every organization below the top.
func treeIndent(depth int) string {
	if depth == 0 {
		return ""
	}
	return strings.Repeat("\u2003", depth-1) + "└ "
}

// topDepth is the depth of the first organization, the top of the scope.
func topDepth(orgs []store.Org) int {
	if len(orgs) == 0 {
		return 0
	}
	return orgs[0].Depth
}

// parentPath is the path of the organization above o, "" for the root.
func parentPath(o store.Org) string {
	if o.ParentID == "" {
		return ""
	}
	return strings.TrimSuffix(o.Path, "/"+o.Name)
}

// own reports whether o is the top of the user's scope: their own
// organization, whose place and policy the organization above sets.
func own(p Page, o store.Org) bool { return o.ID == p.User.OrgID }

// canRename reports whether the user may rename the organization: not
// their own, unless it is the root.
func (v OrgDetails) canRename(p Page) bool {
	return p.Can(store.RightOrgs) && (v.Org.IsRoot() || !own(p, v.Org))
}

// canMove reports whether the organization can be moved by the user.
func (v OrgDetails) canMove(p Page) bool {
	return p.Can(store.RightOrgs) && !v.Org.IsRoot() && !own(p, v.Org)
}

// canSetPolicy reports whether the store would take the user's policy for
// the organization: it is set from above, so not for one's own, unless it
// is the root.
func (v OrgDetails) canSetPolicy(p Page) bool {
	return p.Can(store.RightSettings) && (v.Org.IsRoot() || !own(p, v.Org))
}

func (v OrgDetails) empty() bool { return v.Org.Keys == 0 && v.Org.Users == 0 && v.Org.Children == 0 }

// holdings says what stands in the way of deleting the organization.
func (v OrgDetails) holdings() string {
	return "It holds " + plural(v.Org.Keys, "key", "keys") + ", " + plural(v.Org.Users, "user", "users") + " and " +
		plural(v.Org.Children, "organization", "organizations") + ". Move or delete them first."
}

// inSubtree reports whether o is the organization itself or below it: no
// place to move it to.
func (v OrgDetails) inSubtree(o store.Org) bool {
	return o.ID == v.Org.ID || strings.HasPrefix(strings.ToLower(o.Path), strings.ToLower(v.Org.Path)+"/")
}

// inTree returns the organization with the id, if the user can see it.
func (v OrgDetails) inTree(id string) (store.Org, bool) {
	for _, o := range v.Tree {
		if o.ID == id {
			return o, true
		}
	}
	return store.Org{}, false
}

// parentInSight reports whether the user can open the parent's page.
func (v OrgDetails) parentInSight() bool {
	_, ok := v.inTree(v.Org.ParentID)
	return ok
}

// origin names where a limit in effect comes from: the nearest
// organization at or above this one whose own policy sets it, "here" for
// this one, or "above your organization" when that is out of sight.
func (v OrgDetails) origin(sets func(store.Policy) bool) string {
	for o, ok := v.Org, true; ok; o, ok = v.inTree(o.ParentID) {
		if sets(o.Policy) {
			if o.ID == v.Org.ID {
				return "set here"
			}
			return "set by " + o.Path
		}
	}
	return "set above your organization"
}

// keysOnText says whether keys work here, and if not, who switched them off.
func (v OrgDetails) keysOnText() string {
	if v.Org.Effective.APIKeysEnabled {
		return "On"
	}
	return "Off (" + v.origin(func(p store.Policy) bool { return !p.APIKeysEnabled }) + ")"
}

func (v OrgDetails) expiryText() string {
	days := v.Org.Effective.MaxExpiryDays
	if days == 0 {
		return "No limit"
	}
	return plural(days, "day", "days") + " (" + v.origin(func(p store.Policy) bool { return p.MaxExpiryDays == days }) + ")"
}

func (v OrgDetails) keysPerUserText() string {
	n := v.Org.Effective.MaxKeysPerUser
	if n == 0 {
		return "No limit"
	}
	return plural(n, "key", "keys") + " (" + v.origin(func(p store.Policy) bool { return p.MaxKeysPerUser == n }) + ")"
}

func (v OrgDetails) recoverableText() string {
	if !v.Org.Effective.RecoverableKeys {
		return "Off: secrets are shown once"
	}
	return "On (" + v.origin(func(p store.Policy) bool { return p.RecoverableKeys }) + ")"
}

func (v OrgDetails) rotateEveryText() string {
	days := v.Org.Effective.RotateEveryDays
	if days == 0 {
		return "No schedule"
	}
	return "Every " + plural(days, "day", "days") + " (" + v.origin(func(p store.Policy) bool { return p.RotateEveryDays == days }) + ")"
}

func (v OrgDetails) graceText() string {
	e := v.Org.Effective
	if !e.GraceSet {
		return plural(store.DefaultGraceDays, "day", "days") + " (the default)"
	}
	return plural(e.GraceDays, "day", "days") + " (" + v.origin(func(p store.Policy) bool { return p.GraceSet && p.GraceDays == e.GraceDays }) + ")"
}

// policyChips names the limits in effect at an organization, for the list.
func policyChips(o store.Org) []string {
	var out []string
	if !o.Effective.APIKeysEnabled {
		out = append(out, "Keys off")
	}
	if d := o.Effective.MaxExpiryDays; d > 0 {
		out = append(out, "Expiry ≤ "+plural(d, "day", "days"))
	}
	if n := o.Effective.MaxKeysPerUser; n > 0 {
		out = append(out, "≤ "+plural(n, "key", "keys")+" per user")
	}
	if o.Effective.RecoverableKeys {
		out = append(out, "Recoverable keys")
	}
	if d := o.Effective.RotateEveryDays; d > 0 {
		out = append(out, "Rotate every "+plural(d, "day", "days"))
	}
	if o.Effective.GraceSet {
		out = append(out, "Grace "+plural(o.Effective.GraceDays, "day", "days"))
	}
	if o.Effective.NoticeDays != "" {
		out = append(out, "Notices at "+strings.ReplaceAll(o.Effective.NoticeDays, ",", ", ")+" days")
	}
	if o.Effective.SpikeMultiple != 0 || o.Effective.SpikeFloor != 0 {
		multiple, floor := o.Effective.Spike()
		out = append(out, fmt.Sprintf("Spike at %d× and %s", multiple, thousands(floor)))
	}
	if d := o.Effective.DeleteAfterDays; d > 0 {
		out = append(out, "Delete "+plural(d, "day", "days")+" after the end")
	}
	return out
}

// RetiredWarning says how many keys a retention policy deletes at once.
func RetiredWarning(n int) string {
	if n == 1 {
		return "1 key is already past it and will be deleted within the hour."
	}
	return thousands(n) + " keys are already past it and will be deleted within the hour."
}
