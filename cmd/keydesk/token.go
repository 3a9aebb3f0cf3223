package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keydesk/keydesk/store"
)

const tokenUsage = `Usage:
  keydesk token create --db PATH --user U --name N --rights R1,R2 --expires 30d [--org ID]

Makes a personal access token for user U, for automation that calls the
management API: some of U's rights (apikeys.read, apikeys.create, …), in
U's organization or one below it (--org), expiring after --expires (days
such as 30d, or a date such as 2027-06-30; at most a year). The token is
printed once, as the last line; only its hash is kept.
`

func (e env) token(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(e.stderr, tokenUsage)
		return errors.New(`the token command takes "create"`)
	}
	fs := e.flags("token create")
	db := e.dbFlag(fs)
	user := fs.String("user", "", "the user the token acts for")
	name := fs.String("name", "", "what the token is for")
	rights := fs.String("rights", "", "the rights it holds, separated by commas")
	expires := fs.String("expires", "", "when it expires: 30d, or a date")
	org := fs.String("org", "", "the organization it is limited to (an id; default the user's own)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *user == "" || *name == "" || *rights == "" || *expires == "" {
		return errors.New("--user, --name, --rights and --expires are required\n\n" + tokenUsage)
	}
	st, err := store.OpenExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	at, err := expiryOf(*expires, st.Now())
	if err != nil {
		return err
	}
	in := store.NewToken{Name: *name, OrgID: *org, ExpiresAt: at}
	for _, r := range strings.Split(*rights, ",") {
		if r = strings.TrimSpace(r); r != "" {
			in.Rights = append(in.Rights, store.Right(r))
		}
	}
	t, token, err := st.CreateTokenFor(ctx, store.SystemActor("cli"), *user, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Token %q for %s, expiring %s. It is shown once:\n", t.Name, t.Username, t.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintln(e.stdout, token)
	return nil
}

// expiryOf reads --expires: a number of days ("30d") from now, or a date.
func expiryOf(text string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(text, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if t, err := parseAt(text); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("--expires: give a number of days such as 30d, or a date such as 2027-06-30")
}
