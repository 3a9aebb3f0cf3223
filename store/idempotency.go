package store

import (
	"bytes"
	"context"
	"database/sql"
	"time"
)

// IdempotencyWindow is how long an answer is kept for a request sent again.
const IdempotencyWindow = 24 * time.Hour

// MaxIdempotencyKeyLen bounds an Idempotency-Key.
const MaxIdempotencyKeyLen = 255

// idempotencyBinding is what an answer's seal is bound to: its token and
// key, so that it opens for those only.
func idempotencyBinding(tokenID, key string) string { return "answer:" + tokenID + ":" + key }

// PriorAnswer finds the answer kept for a token's Idempotency-Key within
// the window: found, and its status and body when the request's body
// (its SHA-256) is the same; a different body is ECONFLICT.
func (s *Store) PriorAnswer(ctx context.Context, token Token, key string, bodyHash []byte) (status int, answer []byte, found bool, err error) {
	var hash, sealed []byte
	err = s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT a.body_hash, a.status, a.sealed FROM idempotent_answers a JOIN access_tokens t ON t.id = a.token_id
			WHERE t.public_id = ? AND a.key = ? AND a.created_at > ?`, token.ID, key, s.now().Add(-IdempotencyWindow).Unix()).Scan(&hash, &status, &sealed)
	})
	if err == sql.ErrNoRows {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	if !bytes.Equal(hash, bodyHash) {
		return 0, nil, true, Errorf(ECONFLICT, "Idempotency-Key", "This Idempotency-Key was used in the last 24 hours with another body: use a new key for another request.")
	}
	m, err := s.masterKey()
	if err != nil {
		return 0, nil, true, err
	}
	answer, err = m.openBytes(sealed, idempotencyBinding(token.ID, key))
	return status, answer, true, err
}

// KeepAnswer keeps a POST's answer for its token's Idempotency-Key,
// sealed; a second keeping of the same key (two requests at once) keeps
// the first.
func (s *Store) KeepAnswer(ctx context.Context, token Token, key string, bodyHash []byte, status int, answer []byte) error {
	m, err := s.masterKey()
	if err != nil {
		return err
	}
	sealed := m.seal(string(answer), idempotencyBinding(token.ID, key))
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotent_answers WHERE created_at <= ?`, now.Add(-IdempotencyWindow).Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO idempotent_answers (token_id, key, body_hash, status, sealed, sealed_by, created_at)
			SELECT id, ?, ?, ?, ?, ?, ? FROM access_tokens WHERE public_id = ? ON CONFLICT DO NOTHING`,
			key, bodyHash, status, sealed, m.ID(), now.Unix(), token.ID)
		return err
	})
}

// rekeyAnswers moves the kept answers to the master key next, inside
// Rekey's transaction; one that does not open under old is dropped (it
// is a day's cache at most).
func rekeyAnswers(ctx context.Context, tx *sql.Tx, old, next *MasterKey) error {
	type answer struct {
		token   int64
		id, key string
		by      string
		sealed  []byte
	}
	all, err := allRows(ctx, tx, func(r rowScanner) (answer, error) {
		var a answer
		return a, r.Scan(&a.token, &a.id, &a.key, &a.by, &a.sealed)
	}, `SELECT a.token_id, t.public_id, a.key, a.sealed_by, a.sealed FROM idempotent_answers a JOIN access_tokens t ON t.id = a.token_id`)
	if err != nil {
		return err
	}
	for _, a := range all {
		if a.by == next.ID() {
			continue
		}
		plain, err := old.openBytes(a.sealed, idempotencyBinding(a.id, a.key))
		if err != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM idempotent_answers WHERE token_id = ? AND key = ?`, a.token, a.key); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE idempotent_answers SET sealed = ?, sealed_by = ? WHERE token_id = ? AND key = ?`,
			next.seal(string(plain), idempotencyBinding(a.id, a.key)), next.ID(), a.token, a.key); err != nil {
			return err
		}
	}
	return nil
}
