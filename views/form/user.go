package form

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/keydesk/keydesk/store"
)

// UserForm is the New user form.
type UserForm struct {
	Username    string
	DisplayName string
	RoleID      string
	Org         string // public id of the user's organization; empty is the creator's own
	Password    string
	Confirm     string
	Errors      Errors
}

// ParseUserForm reads the form from posted values.
func ParseUserForm(v url.Values) UserForm {
	return UserForm{
		Username:    strings.TrimSpace(v.Get("username")),
		DisplayName: v.Get("display_name"),
		RoleID:      v.Get("role"),
		Org:         v.Get("org"),
		Password:    v.Get("password"),
		Confirm:     v.Get("confirm"),
	}
}

// Validate checks the form and returns the user to create.
func (f *UserForm) Validate() (store.NewUser, bool) {
	f.Errors = nil
	in := store.NewUser{Username: strings.ToLower(f.Username), DisplayName: strings.TrimSpace(f.DisplayName), Org: f.Org}
	if msg := store.UsernameProblem(in.Username); msg != "" {
		f.Errors.Add("username", msg)
	}
	if len([]rune(in.DisplayName)) > 100 {
		f.Errors.Add("display_name", "Use at most 100 characters.")
	}
	id, ok := ParseID(f.RoleID)
	if !ok {
		f.Errors.Add("role", "Choose a role.")
	}
	in.RoleID = id
	in.Password = f.Password
	f.checkPassword(in.Username)
	return in, !f.Errors.Any()
}

func (f *UserForm) checkPassword(username string) {
	pf := PasswordForm{Password: f.Password, Confirm: f.Confirm}
	pf.check(username)
	for k, v := range pf.Errors {
		f.Errors.Add(k, v)
	}
}

// PasswordForm sets a password: a user's own (with the current one) or, by
// an administrator, someone else's.
type PasswordForm struct {
	Current  string
	Password string
	Confirm  string
	Errors   Errors
}

// ParsePasswordForm reads the form from posted values.
func ParsePasswordForm(v url.Values) PasswordForm {
	return PasswordForm{Current: v.Get("current"), Password: v.Get("password"), Confirm: v.Get("confirm")}
}

// Validate checks the new password for username; the store checks the
// current one.
func (f *PasswordForm) Validate(username string) bool {
	f.Errors = nil
	f.check(username)
	return !f.Errors.Any()
}

func (f *PasswordForm) check(username string) {
	if msg := store.PasswordProblem(username, f.Password); msg != "" {
		f.Errors.Add("password", msg)
	} else if f.Confirm != f.Password {
		f.Errors.Add("confirm", "The two passwords differ. Type the same password twice.")
	}
}

// RoleForm is the form of a custom role.
type RoleForm struct {
	Name   string
	Rights []store.Right
	Errors Errors
}

// ParseRoleForm reads the form from posted values.
func ParseRoleForm(v url.Values) RoleForm {
	f := RoleForm{Name: v.Get("name")}
	for _, r := range v["rights"] {
		f.Rights = append(f.Rights, store.Right(r))
	}
	return f
}

// Validate checks the form and returns the role input.
func (f *RoleForm) Validate() (store.RoleInput, bool) {
	f.Errors = nil
	in := store.RoleInput{Name: strings.TrimSpace(f.Name), Rights: f.Rights}
	if msg := store.RoleNameProblem(in.Name); msg != "" {
		f.Errors.Add("name", msg)
	}
	for _, r := range f.Rights {
		if !store.ValidRight(r) {
			f.Errors.Add("rights", "There is no right \""+string(r)+"\".")
		}
	}
	return in, !f.Errors.Any()
}

// Has reports whether the form grants r.
func (f RoleForm) Has(r store.Right) bool { return slices.Contains(f.Rights, r) }

// ParseID reads a positive database id, as found in a URL or a menu.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
