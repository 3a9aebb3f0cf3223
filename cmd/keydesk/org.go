package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/keydesk/keydesk/store"
)

const orgUsage = `Usage:
  keydesk org add --name N [--parent P] [--db PATH]
  keydesk org list [--db PATH]

P is an organization's id, its name, or its path of names such as
Default/Acme; without it the new organization goes under the root. add prints
the new organization's id as its last line.
`

// org manages the organization tree from the shell.
func (e env) org(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("org needs a command\n\n" + orgUsage)
	}
	cmd, args := args[0], args[1:]
	fs := e.flags("org " + cmd)
	db := e.dbFlag(fs)
	var name, parent string
	switch cmd {
	case "add":
		fs.StringVar(&name, "name", "", "the new organization's name")
		fs.StringVar(&parent, "parent", "", "the organization to add it under: an id, a name or a path (default the root)")
	case "list":
	default:
		return fmt.Errorf("unknown org command %q\n\n%s", cmd, orgUsage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n\n%s", fs.Arg(0), orgUsage)
	}
	if cmd == "add" && name == "" {
		return errors.New("--name is required\n\n" + orgUsage)
	}
	st, err := store.OpenExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()

	switch cmd {
	case "add":
		parentID := ""
		if parent != "" {
			p, err := st.OrgByPath(ctx, store.Scope{}, parent)
			if err != nil {
				return err
			}
			parentID = p.ID
		}
		o, err := st.CreateOrg(ctx, store.SystemActor("command line"), name, parentID)
		if err != nil {
			return err
		}
		// The id alone on the last line, for scripts.
		fmt.Fprintf(e.stdout, "Created the organization %s.\n%s\n", store.Printable(o.Path), o.ID)
	case "list":
		orgs, err := st.OrgsCounted(ctx, store.Scope{})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPATH\tKEYS\tUSERS")
		for _, o := range orgs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", o.ID, store.Printable(o.Path), o.Keys, o.Users)
		}
		return tw.Flush()
	}
	return nil
}
