package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16

	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// PasswordProblem returns what is wrong with a password for username, or "".
func PasswordProblem(username, password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("Use at most %d characters.", MaxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(password), username):
		return "The password cannot be the username."
	}
	return ""
}

// inPool runs one argon2 computation in the store's bounded pool. Each takes
// 19 MiB for a moment, so only cap(s.hashing) run at once, whatever asks for
// them; the others wait their turn, or give up with their request.
func (s *Store) inPool(ctx context.Context, argon func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	if s.guard.poolHook != nil {
		s.guard.poolHook(argon)
		return nil
	}
	argon()
	return nil
}

// newPasswordHash hashes a password in the pool.
func (s *Store) newPasswordHash(ctx context.Context, password string) (string, error) {
	var hash string
	err := s.inPool(ctx, func() { hash = hashPassword(password) })
	return hash, err
}

// passwordMatches checks a password against a hash in the pool.
func (s *Store) passwordMatches(ctx context.Context, hash, password string) (bool, error) {
	var ok bool
	err := s.inPool(ctx, func() { ok = checkPassword(hash, password) })
	return ok, err
}

// hashPassword returns an argon2id hash in the PHC string format. It runs
// argon2 at once: go through newPasswordHash, which bounds how many run.
func hashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// checkPassword reports whether password matches hash. A malformed hash
// matches nothing. It runs argon2 at once: go through passwordMatches.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a login names no user, so that an
// unknown username takes as long to refuse as a wrong password. It is a
// well-formed hash with the parameters in use, of no password anybody knows.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$YaWFuo2J5rHYT5XnvP4X2Q$EhSY367RO7LEvd6pgddNHyywk/VUJFZF7Xkj21UTydI"

// NewPassword returns a random password for first-start set-up.
func NewPassword() string {
	return randomString(20, base62)
}
