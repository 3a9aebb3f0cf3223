package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"time"
)

// Access token events.
const (
	ActionTokenCreated = "token.created"
	ActionTokenRevoked = "token.revoked"
	TargetToken        = "token"
)

// TokenPrefix starts every access token; the rest has the form of a key
// secret, so that a token is told from a key at a glance and by secret
// scanners.
const TokenPrefix = "kdp_"

// MaxTokenLife is how far ahead a token may expire.
const MaxTokenLife = 366 * 24 * time.Hour

// Token is a personal access token, as lists show it: never the token.
type Token struct {
	ID         string
	UserID     int64
	Username   string
	Name       string
	Hint       string
	Rights     []Right
	OrgID      string // "" for the user's own organization
	OrgPath    string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	CreatedBy  string
	LastUsedAt time.Time // zero before its first use
	RevokedAt  time.Time // zero while it is not revoked

	orgRow int64
}

// Usable reports whether the token is neither revoked nor expired at now.
func (t Token) Usable(now time.Time) bool { return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) }

// NewToken is what a token is made of.
type NewToken struct {
	Name      string
	Rights    []Right
	OrgID     string // the user's own organization when empty
	ExpiresAt time.Time
}

// CreateToken makes a token for the user with id userID, who must be the
// actor or a user of the actor's scope that the actor may manage, and
// returns it with the token itself, which is never shown again. Its rights
// are a subset of the user's, its organization one of theirs.
func (s *Store) CreateToken(ctx context.Context, actor Actor, userID int64, in NewToken) (Token, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	if msg := TextProblem(in.Name); msg != "" || in.Name == "" || len(in.Name) > 100 {
		if msg == "" {
			msg = "Name the token after what will use it, in at most 100 characters."
		}
		return Token{}, "", &Error{Code: EINVALID, Field: "name", Message: msg}
	}
	if len(in.Rights) == 0 {
		return Token{}, "", Errorf(EINVALID, "rights", "Choose at least one right.")
	}
	token := newChecked(TokenPrefix)
	var t Token
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		switch {
		case in.ExpiresAt.IsZero():
			return Errorf(EINVALID, "expires", "A token must expire: choose a date within a year.")
		case !in.ExpiresAt.After(now):
			return Errorf(EINVALID, "expires", "Choose a date in the future.")
		case in.ExpiresAt.After(now.Add(MaxTokenLife)):
			return Errorf(EINVALID, "expires", "Choose a date within a year.")
		}
		u, err := scopedUser(ctx, tx, actor.Scope, userID)
		if err != nil {
			return err
		}
		if err := mayHandleTokensOf(ctx, tx, actor, u); err != nil {
			return err
		}
		if !u.DisabledAt.IsZero() {
			return Errorf(ECONFLICT, "", "%s is disabled: a disabled user's tokens would not work.", u.Username)
		}
		rights := slices.Clone(in.Rights)
		slices.Sort(rights)
		rights = slices.Compact(rights)
		for _, r := range rights {
			if !ValidRight(r) {
				return Errorf(EINVALID, "rights", "There is no right %q.", r)
			}
		}
		if missing := missingRights(u.Rights, rights); len(missing) > 0 {
			return Errorf(EINVALID, "rights", "A token holds some of its user's rights only; %s does not hold %s.", u.Username, strings.Join(missing, ", "))
		}
		org := sql.NullInt64{}
		if in.OrgID != "" {
			o, err := orgByID(ctx, tx, u.Scope(), in.OrgID)
			if ErrorCode(err) == ENOTFOUND {
				return Errorf(EINVALID, "org", "Choose one of %s's organizations.", u.Username)
			}
			if err != nil {
				return err
			}
			org = sql.NullInt64{Int64: o.rowID, Valid: true}
			t.OrgID, t.OrgPath = o.ID, o.Path
		}
		t = Token{ID: "tok_" + newPublicID(), UserID: u.ID, Username: u.Username, Name: in.Name, Hint: secretHint(token),
			Rights: rights, OrgID: t.OrgID, OrgPath: t.OrgPath, ExpiresAt: in.ExpiresAt.UTC().Truncate(time.Second),
			CreatedAt: now, CreatedBy: actor.Username, orgRow: org.Int64}
		names := make([]string, len(rights))
		for i, r := range rights {
			names[i] = string(r)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_tokens (public_id, user_id, name, token_hash, hint, rights, org_id, expires_at, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, u.ID, t.Name, HashSecret(token), t.Hint, strings.Join(names, " "), org,
			t.ExpiresAt.Unix(), now.Unix(), actor.Username); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, tokenEvent(ActionTokenCreated, t, u))
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, token, nil
}

// CreateTokenFor is CreateToken for the user with this username, as the
// command line names them.
func (s *Store) CreateTokenFor(ctx context.Context, actor Actor, username string, in NewToken) (Token, string, error) {
	id, err := s.userIDByName(ctx, username)
	if err != nil {
		return Token{}, "", err
	}
	return s.CreateToken(ctx, actor, id, in)
}

// mayHandleTokensOf lets the actor make or revoke u's tokens: their own,
// or, with the right to manage users, those of a user they may manage.
func mayHandleTokensOf(ctx context.Context, tx *sql.Tx, actor Actor, u User) error {
	if actor.UserID == u.ID {
		return nil
	}
	held, limited, err := actorRights(ctx, tx, actor)
	if err != nil {
		return err
	}
	if limited && !slices.Contains(held, RightUsers) {
		return Errorf(EFORBIDDEN, "", "You do not have the right to handle another user's tokens: it takes the right to manage users.")
	}
	return mayManage(ctx, tx, actor, u)
}

func tokenEvent(action string, t Token, u User) eventRecord {
	names := make([]string, len(t.Rights))
	for i, r := range t.Rights {
		names[i] = string(r)
	}
	details := map[string]any{"user": u.Username, "rights": strings.Join(names, " "), "expires_at": t.ExpiresAt.Format(time.RFC3339)}
	if t.OrgPath != "" {
		details["org"] = t.OrgPath
	}
	return eventRecord{Action: action, TargetType: TargetToken, TargetID: t.ID, TargetName: t.Name, Details: details, org: u.Scope().orgRow()}
}

const tokenColumns = `t.id, t.public_id, t.user_id, u.username, t.name, t.hint, t.rights, coalesce(t.org_id, 0),
	coalesce((SELECT public_id FROM organizations WHERE id = t.org_id), ''), t.expires_at, t.created_at, t.created_by,
	coalesce(t.last_used_at, 0), coalesce(t.revoked_at, 0)`

func scanToken(r rowScanner) (Token, int64, error) {
	var t Token
	var row, expires, created, used, revoked int64
	var rights string
	err := r.Scan(&row, &t.ID, &t.UserID, &t.Username, &t.Name, &t.Hint, &rights, &t.orgRow, &t.OrgID, &expires, &created, &t.CreatedBy, &used, &revoked)
	for _, f := range strings.Fields(rights) {
		t.Rights = append(t.Rights, Right(f))
	}
	t.ExpiresAt, t.CreatedAt = time.Unix(expires, 0).UTC(), time.Unix(created, 0).UTC()
	if used != 0 {
		t.LastUsedAt = time.Unix(used, 0).UTC()
	}
	if revoked != 0 {
		t.RevokedAt = time.Unix(revoked, 0).UTC()
	}
	return t, row, err
}

// Tokens lists the tokens of the users of the scope, newest first; of
// one user when userID is not 0. Revoked ones are left out.
func (s *Store) Tokens(ctx context.Context, sc Scope, userID int64) ([]Token, error) {
	x, err := s.orgs.get()
	if err != nil {
		return nil, err
	}
	return readValue(ctx, s, func(tx *sql.Tx) ([]Token, error) {
		a := &args{}
		query := `SELECT ` + tokenColumns + ` FROM access_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.revoked_at IS NULL AND ` + sc.orgCondition(a, "u.org_id")
		if userID != 0 {
			query += ` AND t.user_id = ` + a.add(userID)
		}
		out, err := allRows(ctx, tx, func(r rowScanner) (Token, error) {
			t, _, err := scanToken(r)
			if info := x.byRow[t.orgRow]; info != nil {
				t.OrgPath = s.orgPath(x, info.id)
			}
			return t, err
		}, query+` ORDER BY t.id DESC`, a.list...)
		return out, err
	})
}

// RevokeToken revokes a token: its own user's, or any of the actor's
// scope that the actor may manage.
func (s *Store) RevokeToken(ctx context.Context, actor Actor, id string) (Token, error) {
	return s.revokeToken(ctx, actor, id, false)
}

// RevokeOwnToken revokes one of the actor's own tokens; any other does
// not exist for this call.
func (s *Store) RevokeOwnToken(ctx context.Context, actor Actor, id string) (Token, error) {
	return s.revokeToken(ctx, actor, id, true)
}

func (s *Store) revokeToken(ctx context.Context, actor Actor, id string, own bool) (Token, error) {
	var t Token
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		var row int64
		t, row, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM access_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.public_id = ? AND t.revoked_at IS NULL`, id))
		if err == sql.ErrNoRows || (err == nil && own && t.UserID != actor.UserID) {
			return Errorf(ENOTFOUND, "", "There is no such token. It may have been revoked.")
		}
		if err != nil {
			return err
		}
		u, err := scopedUser(ctx, tx, actor.Scope, t.UserID)
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(ENOTFOUND, "", "There is no such token. It may have been revoked.")
		}
		if err != nil {
			return err
		}
		if err := mayHandleTokensOf(ctx, tx, actor, u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = ? WHERE id = ?`, now.Unix(), row); err != nil {
			return err
		}
		t.RevokedAt = now
		return s.logEvent(ctx, tx, now, actor, tokenEvent(ActionTokenRevoked, t, u))
	})
	return t, err
}

// TokenUseResolution is how precisely a token's last use is kept.
const TokenUseResolution = time.Minute

// tokenUses are the access tokens used since the last FlushUsage: when
// each was last used, by row.
type tokenUses struct {
	mu sync.Mutex
	at map[int64]int64
}

func (u *tokenUses) note(row, at int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.at == nil {
		u.at = map[int64]int64{}
	}
	u.at[row] = max(u.at[row], at)
}

// take returns what was noted and forgets it.
func (u *tokenUses) take() map[int64]int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	taken := u.at
	u.at = nil
	return taken
}

// putBack notes again what a failed write took.
func (u *tokenUses) putBack(taken map[int64]int64) {
	for row, at := range taken {
		u.note(row, at)
	}
}

// ErrBadToken is what AuthenticateToken answers for any token that does
// not let its bearer in, whatever the reason, so that the answer tells
// nothing about tokens that exist.
var ErrBadToken = Errorf(EUNAUTHORIZED, "", "The token is not valid: it is unknown, expired or revoked, or its user is disabled.")

// AuthenticateToken reads the user a token acts for, with the rights the
// token grants: those of its own that the user still holds, within the
// token's organization when it names one that is still the user's. A
// token that is malformed, unknown, revoked or expired, or whose user is
// disabled, is ErrBadToken. It notes the token's use, to the minute
// (TokenUseResolution), for FlushUsage to write.
func (s *Store) AuthenticateToken(ctx context.Context, token string) (User, Token, error) {
	if !wellFormed(token, TokenPrefix) {
		return User{}, Token{}, ErrBadToken
	}
	var u User
	var t Token
	var row int64
	now := s.now()
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		t, row, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM access_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = ?`, HashSecret(token)))
		if err == sql.ErrNoRows || (err == nil && !t.Usable(now)) {
			return ErrBadToken
		}
		if err != nil {
			return err
		}
		if u, err = userByID(ctx, tx, t.UserID); err != nil {
			return err
		}
		if !u.DisabledAt.IsZero() {
			return ErrBadToken
		}
		u.Rights = slices.DeleteFunc(slices.Clone(u.Rights), func(r Right) bool { return !slices.Contains(t.Rights, r) })
		if t.orgRow != 0 {
			o, err := orgByRow(ctx, tx, t.orgRow)
			if err != nil || !u.Scope().contains(o.ids) {
				return ErrBadToken // the user has moved away from it
			}
			u.orgIDs, u.OrgID = o.ids, o.ID
		}
		return nil
	})
	if err != nil {
		return User{}, Token{}, err
	}
	// The use is written with the keys' usage (FlushUsage), when the one
	// recorded is a minute old: no request waits for a write, which a bulk
	// action may hold for seconds.
	if now.Sub(t.LastUsedAt) >= TokenUseResolution {
		s.tokenUses.note(row, now.Unix())
	}
	return u, t, nil
}
