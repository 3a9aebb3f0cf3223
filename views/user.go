package views

import (
	"strings"

	"github.com/a-h/templ"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

func userURL(id int64) templ.SafeURL { return templ.SafeURL(urls.User(id)) }

func userActionURL(id int64, action string) templ.SafeURL {
	return templ.SafeURL(urls.UserAction(id, action))
}

func roleURL(id int64) templ.SafeURL { return templ.SafeURL(urls.Role(id)) }

func roleDeleteURL(id int64) templ.SafeURL {
	return templ.SafeURL(urls.RoleAction(id, "delete"))
}

// roleFormAction is where the role form posts: a new role, or this one.
func roleFormAction(r store.Role) templ.SafeURL {
	if r.ID == 0 {
		return urls.Roles
	}
	return roleURL(r.ID)
}

func roleTitle(r store.Role) string {
	if r.ID == 0 {
		return "New role"
	}
	return r.Name
}

func rightCount(n int) string { return plural(n, "right", "rights") }

func joinNames(names []string) string { return strings.Join(names, ", ") }

// rightsHeld explains the rights a user holds.
func rightsHeld(u store.User) []store.RightInfo {
	var out []store.RightInfo
	for _, info := range store.Rights {
		if u.Can(info.Right) {
			out = append(out, info)
		}
	}
	return out
}

// orgPath is the path of the user's organization, "" when the viewer sees
// only one organization (theirs).
func (v UserDetails) orgPath() string {
	if len(v.Orgs) < 2 {
		return ""
	}
	for _, o := range v.Orgs {
		if o.ID == v.User.OrgID {
			return o.Path
		}
	}
	return ""
}

// rightNames writes rights as the names chips show.
func rightNames(rights []store.Right) []string {
	out := make([]string, len(rights))
	for i, r := range rights {
		out[i] = string(r)
	}
	return out
}
