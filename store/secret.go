package store

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"strings"
)

// A secret is "kd_", 30 random base62 characters (178 bits) and 6 base62
// characters of the CRC32 of those 30, the scheme GitHub uses for its tokens:
// secret scanners can recognise it and a typo is caught before any lookup.
const (
	secretPrefix    = "kd_"
	secretRandomLen = 30
	secretCheckLen  = 6
	SecretLen       = len(secretPrefix) + secretRandomLen + secretCheckLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// publicIDAlphabet is lowercase so that ids survive case-insensitive search
// and read well in URLs.
const publicIDAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// PublicIDLen is the length of a key's public id (82 bits).
const PublicIDLen = 16

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand.
func randomString(n int, alphabet string) string {
	// Rejection sampling keeps the draw uniform: bytes at or above the largest
	// multiple of len(alphabet) are thrown away.
	limit := byte(256 - 256%len(alphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		rand.Read(buf) // never returns an error (crypto/rand, Go 1.24+)
		for _, b := range buf {
			if b < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// NewSecret returns a fresh key secret.
func NewSecret() string { return newChecked(secretPrefix) }

// newChecked returns prefix, secretRandomLen random base62 characters and
// their checksum: the form of key secrets and of access tokens, which
// differ by their prefix.
func newChecked(prefix string) string {
	random := randomString(secretRandomLen, base62)
	sum := checksum(random)
	return prefix + random + string(sum[:])
}

var crcTable = crc32.MakeTable(crc32.IEEE)

// checksum encodes the CRC32 (IEEE) of s as secretCheckLen base62
// characters. It works on the string in place: verification calls it for
// every presented key, and it must not allocate.
func checksum(s string) [secretCheckLen]byte {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crcTable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	n := ^crc
	var out [secretCheckLen]byte
	for i := secretCheckLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return out
}

// WellFormedSecret reports whether s has the secret format and a valid
// checksum. It does no lookup, so malformed keys cost nothing to refuse.
func WellFormedSecret(s string) bool { return wellFormed(s, secretPrefix) }

// wellFormed reports whether s is prefix and a checked random part, as
// newChecked makes them. It does not allocate.
func wellFormed(s, prefix string) bool {
	if len(s) != len(prefix)+secretRandomLen+secretCheckLen || !strings.HasPrefix(s, prefix) {
		return false
	}
	body := s[len(prefix):]
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62, body[i]) < 0 {
			return false
		}
	}
	sum := checksum(body[:secretRandomLen])
	return body[secretRandomLen:] == string(sum[:])
}

// HashSecret is what the store keeps of a secret. Secrets carry enough
// randomness that a fast hash is safe, and it allows an indexed lookup.
func HashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// secretHint is the display form of a secret, truncated in the middle.
func secretHint(s string) string {
	return s[:6] + "…" + s[len(s)-4:]
}

// newPublicID returns a random public id for a key.
func newPublicID() string {
	return randomString(PublicIDLen, publicIDAlphabet)
}
