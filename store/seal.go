package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// MasterKeyLen is the length of a master key: AES-256.
const MasterKeyLen = 32

// MasterKey encrypts the secrets that are kept to be shown again: those of
// recoverable keys, and those a scheduled rotation made that nobody has
// collected yet. It never goes into the database; each ciphertext names
// the master key that made it by its ID.
type MasterKey struct {
	id   string
	aead cipher.AEAD
}

// NewMasterKey makes a master key from 32 random bytes.
func NewMasterKey(raw []byte) (*MasterKey, error) {
	if len(raw) != MasterKeyLen {
		return nil, fmt.Errorf("a master key is %d bytes, not %d", MasterKeyLen, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The id names the key without saying anything useful about it: a
	// hash of it under a label of its own.
	sum := sha256.Sum256(append([]byte("keydesk master key id\x00"), raw...))
	return &MasterKey{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// ParseMasterKey reads a master key written as base64 (standard, padded
// or not), as KEYDESK_MASTER_KEY and the key file hold it.
func ParseMasterKey(text string) (*MasterKey, error) {
	text = strings.TrimSpace(text)
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(text)
	}
	if err != nil {
		return nil, errors.New("a master key is the base64 of 32 random bytes, such as `openssl rand -base64 32` prints")
	}
	return NewMasterKey(raw)
}

// GenerateMasterKey returns a new random master key, as base64.
func GenerateMasterKey() string {
	raw := make([]byte, MasterKeyLen)
	rand.Read(raw) // never returns an error (crypto/rand, Go 1.24+)
	return base64.StdEncoding.EncodeToString(raw)
}

// ID names the master key: what each ciphertext records.
func (m *MasterKey) ID() string { return m.id }

// seal encrypts a key's secret, bound to the key's public id: a ciphertext
// copied onto another key does not open.
func (m *MasterKey) seal(secret, keyID string) []byte {
	nonce := make([]byte, m.aead.NonceSize(), m.aead.NonceSize()+len(secret)+m.aead.Overhead())
	rand.Read(nonce)
	return m.aead.Seal(nonce, nonce, []byte(secret), []byte(keyID))
}

// openBytes decrypts what seal made with this additional data.
func (m *MasterKey) openBytes(sealed []byte, bound string) ([]byte, error) {
	n := m.aead.NonceSize()
	if len(sealed) < n+m.aead.Overhead() {
		return nil, errSealBroken
	}
	plain, err := m.aead.Open(nil, sealed[:n], sealed[n:], []byte(bound))
	if err != nil {
		return nil, errSealBroken
	}
	return plain, nil
}

// keptSecret is a key's current secret as kept_secrets holds it.
type keptSecret struct {
	sealed      []byte // nil: nothing is kept
	by          string // the id of the master key that sealed it
	uncollected bool   // made by a scheduled rotation, not revealed yet
}

// sealFor encrypts a new secret of key k when it is to be kept: always for
// a scheduled rotation (nobody has seen it yet), and for recoverable keys.
// Nothing is kept otherwise.
func (s *Store) sealFor(k *Key, p Policy, secret string, scheduled bool) (keptSecret, error) {
	if !scheduled && !p.RecoverableKeys {
		return keptSecret{}, nil
	}
	m, err := s.masterKey()
	if err != nil {
		return keptSecret{}, err
	}
	return keptSecret{sealed: m.seal(secret, k.ID), by: m.ID(), uncollected: scheduled}, nil
}

// keep writes what is kept of the current secret of the key with row id
// row, replacing what was; nothing kept deletes it.
func (ks keptSecret) keep(ctx context.Context, db execer, row int64) error {
	if ks.sealed == nil {
		_, err := db.ExecContext(ctx, `DELETE FROM kept_secrets WHERE key_id = ?`, row)
		return err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO kept_secrets (key_id, sealed, sealed_by, uncollected) VALUES (?, ?, ?, ?)
		ON CONFLICT (key_id) DO UPDATE SET sealed = excluded.sealed, sealed_by = excluded.sealed_by, uncollected = excluded.uncollected`,
		row, ks.sealed, ks.by, ks.uncollected)
	return err
}

// errSealBroken is a ciphertext that does not open: tampered with, or
// moved from another key.
var errSealBroken = errors.New("the kept secret does not decrypt")

// open decrypts what seal made for the key with this public id.
func (m *MasterKey) open(sealed []byte, keyID string) (string, error) {
	plain, err := m.openBytes(sealed, keyID)
	if err != nil || !WellFormedSecret(string(plain)) {
		return "", errSealBroken
	}
	return string(plain), nil
}

// openFor opens a kept secret of the key with this public id, and checks
// that it is the secret whose hash the key holds.
func (m *MasterKey) openFor(sealed []byte, keyID string, hash []byte) (string, error) {
	secret, err := m.open(sealed, keyID)
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare(HashSecret(secret), hash) != 1 {
		return "", errSealBroken
	}
	return secret, nil
}

// ReadMasterKeyFile reads the master key file at path. With create, a
// missing file is made with a new random key, readable by its owner only.
// It reports whether it made the file.
func ReadMasterKeyFile(path string, create bool) (*MasterKey, bool, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		m, err := ParseMasterKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("master key file %s: %w", path, err)
		}
		return m, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return nil, false, err
	}
	text := GenerateMasterKey()
	if err := WriteMasterKeyFile(path, text); err != nil {
		return nil, false, err
	}
	m, err := ParseMasterKey(text)
	return m, true, err
}

// WriteMasterKeyFile writes a master key, as base64, to a new file at path
// with mode 0600; it fails if the file exists. The file is synced before
// it is named, so that a crash never leaves half a key.
func WriteMasterKeyFile(path, text string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(text + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A link fails when path exists, where a rename would replace it.
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("write master key file: %w", err)
	}
	return nil
}

// SetMasterKey gives the store its master key: get is called when a secret
// is first sealed or opened, and may make the key then (the key file is
// created on first use). Without one, nothing can be sealed: keys of
// recoverable organizations cannot be created or rotated, and nothing can
// be revealed; verification never needs it.
func (s *Store) SetMasterKey(get func() (*MasterKey, error)) {
	s.master = sync.OnceValues(get)
}

// masterKey returns the store's master key, or a clear error without one.
func (s *Store) masterKey() (*MasterKey, error) {
	if s.master == nil {
		return nil, Errorf(ECONFLICT, "", "This server has no master key, so no secret can be kept to be shown again. Its operator can set KEYDESK_MASTER_KEY or restore the key file.")
	}
	m, err := s.master()
	if err != nil {
		return nil, Errorf(ECONFLICT, "", "The master key could not be read (%v), so no secret can be kept to be shown again.", err)
	}
	return m, nil
}

// SealedBy counts the kept secrets by the id of the master key that
// sealed them, for the server to say at start which it cannot open.
func (s *Store) SealedBy(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT sealed_by, count(*) FROM kept_secrets GROUP BY sealed_by`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			out[id] = n
		}
		return rows.Err()
	})
	return out, err
}

// Rekey moves every kept secret, and every webhook's signing secret, from
// the master key old to next, in one transaction: all of them, or none. A secret already under next stays
// (a rekey that was cut off can run again); one under any other master
// key stops it, since it could not be read back.
func (s *Store) Rekey(ctx context.Context, old, next *MasterKey) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		type kept struct {
			row          int64
			id, by       string
			sealed, hash []byte
		}
		all, err := allRows(ctx, tx, func(r rowScanner) (kept, error) {
			var k kept
			return k, r.Scan(&k.row, &k.id, &k.by, &k.sealed, &k.hash)
		}, `SELECT k.id, k.public_id, ks.sealed_by, ks.sealed, k.secret_hash FROM kept_secrets ks JOIN keys k ON k.id = ks.key_id`)
		if err != nil {
			return err
		}
		for _, k := range all {
			switch k.by {
			case next.ID():
				continue
			case old.ID():
			default:
				return fmt.Errorf("the secret of key %s is kept under master key %s, neither the current one (%s) nor the new one: nothing was changed", k.id, k.by, old.ID())
			}
			secret, err := old.openFor(k.sealed, k.id, k.hash)
			if err != nil {
				return fmt.Errorf("the kept secret of key %s does not decrypt under master key %s: nothing was changed", k.id, old.ID())
			}
			if _, err := tx.ExecContext(ctx, `UPDATE kept_secrets SET sealed = ?, sealed_by = ? WHERE key_id = ?`, next.seal(secret, k.id), next.ID(), k.row); err != nil {
				return err
			}
			n++
		}
		hooks, err := rekeyWebhooks(ctx, tx, old, next)
		n += hooks
		if err != nil {
			return err
		}
		return rekeyAnswers(ctx, tx, old, next)
	})
	return n, err
}
