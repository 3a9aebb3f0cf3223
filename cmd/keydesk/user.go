package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/keydesk/keydesk/store"
)

const userUsage = `Usage:
  keydesk user add --username U --role ROLE [--name "Display Name"] [--org ORG] [--email ADDRESS] [--db PATH]
  keydesk user passwd USERNAME [--db PATH]
  keydesk user unlock USERNAME [--db PATH]
  keydesk user list [--db PATH]

passwd and unlock clear the user's failed logins, so that no throttle holds
them back.

Passwords are read from standard input (one line), or asked for twice at a
terminal; never from a flag, which would leave them in the shell history.
`

// user manages console users from the shell: the way back in for an
// administrator who is locked out.
func (e env) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("user needs a command\n\n" + userUsage)
	}
	cmd, args := args[0], args[1:]
	fs := e.flags("user " + cmd)
	db := e.dbFlag(fs)
	var username, role, name, org, email string
	switch cmd {
	case "add":
		fs.StringVar(&username, "username", "", "the new user's username")
		fs.StringVar(&role, "role", "", "role name, such as Administrator, \"Key manager\" or Viewer")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&email, "email", "", "where the user's notices go (optional)")
		fs.StringVar(&org, "org", "", "the user's organization: a name, a path such as Default/Acme, or an id (default the root)")
	case "passwd", "unlock":
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			username, args = args[0], args[1:]
		}
	case "list":
	default:
		return fmt.Errorf("unknown user command %q\n\n%s", cmd, userUsage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (cmd == "passwd" || cmd == "unlock") && username == "" && fs.NArg() > 0 {
		username = fs.Arg(0)
	}
	st, err := store.OpenExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	actor := store.SystemActor("command line")

	switch cmd {
	case "add":
		if username == "" || role == "" {
			return errors.New("--username and --role are required\n\n" + userUsage)
		}
		r, err := st.RoleByName(ctx, role)
		if err != nil {
			return err
		}
		in := store.NewUser{Username: username, DisplayName: name, RoleID: r.ID, Email: email}
		if org != "" {
			o, err := st.OrgByPath(ctx, store.Scope{}, org)
			if err != nil {
				return err
			}
			in.Org = o.ID
		}
		if in.Password, err = e.readPassword("Password for " + username); err != nil {
			return err
		}
		u, err := st.CreateUser(ctx, actor, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Created user %s with the role %s.\n", u.Username, store.Printable(u.RoleName))
	case "passwd":
		if username == "" {
			return errors.New("passwd needs a username\n\n" + userUsage)
		}
		password, err := e.readPassword("New password for " + username)
		if err != nil {
			return err
		}
		u, err := st.SetPasswordByName(ctx, actor, username, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Set the password of %s; their sessions have ended.\n", u.Username)
	case "unlock":
		if username == "" {
			return errors.New("unlock needs a username\n\n" + userUsage)
		}
		n, err := st.UnlockUser(ctx, actor, username)
		if err != nil {
			return err
		}
		logins := "failed logins"
		if n == 1 {
			logins = "failed login"
		}
		fmt.Fprintf(e.stdout, "Cleared %d %s of %s.\n", n, logins, strings.ToLower(strings.TrimSpace(username)))
	case "list":
		users, err := st.Users(ctx, store.Scope{}, "")
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tSTATUS\tDISPLAY NAME")
		for _, u := range users {
			status := "active"
			if u.Disabled() {
				status = "disabled"
			}
			// Names typed before the text rule may hold escapes; print none raw.
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, store.Printable(u.RoleName), status, store.Printable(u.DisplayName))
		}
		return tw.Flush()
	}
	return nil
}

// readPassword reads a password: at a terminal, asked twice without echo;
// otherwise the first line of standard input.
func (e env) readPassword(prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt+": ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
