// Package views renders the console's pages and the fragments htmx swaps in.
// Views get plain data and do no I/O.
package views

import (
	"time"

	"github.com/keydesk/keydesk/store"
)

// Page is what every page needs besides its own content.
type Page struct {
	Title   string
	Section string // the top-bar section this page belongs to
	User    store.User
	CSRF    string
	Flashes []Flash
	Now     time.Time
	// Soon is the user's keys about to expire, for the navigation's badge
	// and the key list's panel; zero for those who may not see keys.
	Soon store.Soon
}

// LoggedIn reports whether someone is logged in.
func (p Page) LoggedIn() bool { return p.User.ID != 0 }

// Can reports whether the user holds the rights.
func (p Page) Can(rights ...store.Right) bool { return p.LoggedIn() && p.User.Can(rights...) }

// Flash is a message shown once, after an action. A warning asks for
// something to be done, and may link to where it is done.
type Flash struct {
	Error    bool
	Warning  bool
	Message  string
	Link     string // a path on this site that the server chose, never one typed in
	LinkText string
}
