package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
)

// DriverName is pgx with the store's placeholders: the store writes its
// SQL once, with SQLite's "?" and ":name" placeholders, and this driver
// numbers them as PostgreSQL's "$1", "$2"… before pgx sees the query.
const DriverName = "pgx_keydesk"

func init() {
	sql.Register(DriverName, rebindDriver{stdlib.GetDefaultDriver()})
}

// rebound is a query with PostgreSQL's placeholders, and the argument each
// of them takes: the k-th "?" the k-th argument without a name, "?NNN"
// the NNNth, ":name" the argument of that name (the last two, the same
// one each time they recur).
type rebound struct {
	query string
	from  []argRef // from[i] feeds $i+1
}

type argRef struct {
	position int    // among the arguments without a name, from 1; 0 for a name
	name     string // ":name"'s name, or "?NNN" itself, which recur as one
}

// rebind numbers the placeholders of query, leaving alone what sits in
// quotes or comments and PostgreSQL's "::" casts, and drops SQLite's
// planner hints: INDEXED BY, NOT INDEXED, and a unary plus on a name
// that opens a parenthesis.
func rebind(query string) rebound {
	var (
		b         strings.Builder
		r         rebound
		positions int
		names     = map[string]int{}
	)
	placeholder := func(ref argRef) {
		n := len(r.from) + 1
		if ref.name != "" {
			if seen, ok := names[ref.name]; ok {
				n = seen
			} else {
				names[ref.name] = n
				r.from = append(r.from, ref)
			}
		} else {
			r.from = append(r.from, ref)
		}
		b.WriteString("$" + strconv.Itoa(n))
	}
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := closing(query, i+1, c)
			b.WriteString(query[i:end])
			i = end - 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 { // unterminated: the rest is comment
				end = len(query)
			} else {
				end += i + 4
			}
			b.WriteString(query[i:end])
			i = end - 1
		case c == ':' && i+1 < len(query) && query[i+1] == ':':
			b.WriteString("::")
			i++
		case c == ':' && i+1 < len(query) && isNameStart(query[i+1]):
			end := i + 1
			for end < len(query) && isNamePart(query[end]) {
				end++
			}
			placeholder(argRef{name: query[i+1 : end]})
			i = end - 1
		case isNameStart(c) && (i == 0 || !isNamePart(query[i-1])):
			// A word: SQLite's planner hints, which name an index or none,
			// mean nothing here and go; any other word stays.
			if n := plannerHint(query[i:]); n > 0 {
				i += n - 1
				break
			}
			end := i + 1
			for end < len(query) && isNamePart(query[end]) {
				end++
			}
			b.WriteString(query[i:end])
			i = end - 1
		case c == '+' && i+1 < len(query) && isNameStart(query[i+1]) && strings.HasSuffix(strings.TrimRight(b.String(), " \t\n"), "("):
			// "(+name": SQLite's unary plus, which keeps its planner
			// off the column's index; PostgreSQL's may use it.
		case c == '?':
			end := i + 1
			for end < len(query) && '0' <= query[end] && query[end] <= '9' {
				end++
			}
			if end == i+1 {
				positions++
				placeholder(argRef{position: positions})
				break
			}
			// ?NNN: the NNNth argument, the same one each time it recurs.
			n, _ := strconv.Atoi(query[i+1 : end])
			placeholder(argRef{position: n, name: query[i:end]})
			i = end - 1
		default:
			b.WriteByte(c)
		}
	}
	r.query = b.String()
	return r
}

// plannerHint returns the length of the SQLite planner hint that text
// starts with ("INDEXED BY name" or "NOT INDEXED", in any case), 0 if none.
func plannerHint(text string) int {
	words := func(n int) ([]string, int) {
		var out []string
		i := 0
		for len(out) < n {
			for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
				i++
			}
			start := i
			for i < len(text) && isNamePart(text[i]) {
				i++
			}
			if start == i {
				return out, i
			}
			out = append(out, text[start:i])
		}
		return out, i
	}
	w, n := words(3)
	switch {
	case len(w) == 3 && strings.EqualFold(w[0], "INDEXED") && strings.EqualFold(w[1], "BY"):
		return n
	case len(w) >= 2 && strings.EqualFold(w[0], "NOT") && strings.EqualFold(w[1], "INDEXED"):
		_, n = words(2)
		return n
	}
	return 0
}

// closing returns the index just past the quote q that closes a quoted
// text or name opened before start; a doubled quote stays inside.
func closing(query string, start int, q byte) int {
	for i := start; i < len(query); i++ {
		if query[i] != q {
			continue
		}
		if i+1 < len(query) && query[i+1] == q {
			i++
			continue
		}
		return i + 1
	}
	return len(query)
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNamePart(c byte) bool { return isNameStart(c) || ('0' <= c && c <= '9') }

// args puts the arguments of a call in the order of the rebound query's
// placeholders, with Go's booleans as the integers that flags are.
func (r rebound) args(in []driver.NamedValue) ([]driver.NamedValue, error) {
	var positional []driver.NamedValue
	named := map[string]driver.NamedValue{}
	for _, a := range in {
		if a.Name != "" {
			named[a.Name] = a
		} else {
			positional = append(positional, a)
		}
	}
	byPosition := func(n int) (driver.NamedValue, bool) {
		if n < 1 || n > len(positional) {
			return driver.NamedValue{}, false
		}
		return positional[n-1], true
	}
	out := make([]driver.NamedValue, len(r.from))
	for i, ref := range r.from {
		var (
			a  driver.NamedValue
			ok bool
		)
		if ref.position > 0 {
			a, ok = byPosition(ref.position)
		} else {
			a, ok = named[ref.name]
		}
		if !ok {
			return nil, fmt.Errorf("postgres: no argument for placeholder %d (%q) of %d given", i+1, ref.name, len(in))
		}
		v := a.Value
		if b, isBool := v.(bool); isBool {
			// Flags are integers, 0 and 1, on both engines.
			v = int64(0)
			if b {
				v = int64(1)
			}
		}
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out, nil
}

// rebindDriver is pgx's driver, rebinding every query.
type rebindDriver struct{ driver.Driver }

func (d rebindDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	pc, ok := c.(*stdlib.Conn)
	if !ok {
		c.Close()
		return nil, errors.New("postgres: pgx's driver opened an unknown kind of connection")
	}
	return &rebindConn{pc}, nil
}

// rebindConn is pgx's connection, rebinding every query.
type rebindConn struct{ *stdlib.Conn }

func (c *rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	r := rebind(query)
	st, err := c.Conn.PrepareContext(ctx, r.query)
	if err != nil {
		return nil, err
	}
	return &rebindStmt{st, r}, nil
}

func (c *rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r := rebind(query)
	a, err := r.args(args)
	if err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, r.query, a)
}

func (c *rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r := rebind(query)
	a, err := r.args(args)
	if err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, r.query, a)
}

// CheckNamedValue lets named arguments through to args, which numbers
// them; pgx itself takes none.
func (c *rebindConn) CheckNamedValue(nv *driver.NamedValue) error {
	name := nv.Name
	nv.Name = ""
	err := c.Conn.CheckNamedValue(nv)
	nv.Name = name
	return err
}

// rebindStmt is a prepared statement of a rebound query.
type rebindStmt struct {
	driver.Stmt
	r rebound
}

func (s *rebindStmt) NumInput() int { return -1 } // args checks the count

func (s *rebindStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	a, err := s.r.args(args)
	if err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, a)
}

func (s *rebindStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	a, err := s.r.args(args)
	if err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, a)
}
