package store

import (
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
)

// referenceWellFormed is the key format written out the slow, obvious way,
// to hold the fast checker to: the prefix, base62 only, and the CRC32 of
// the random part as a six-digit base62 number.
func referenceWellFormed(s string) bool {
	body, ok := strings.CutPrefix(s, "kd_")
	if !ok || len(body) != secretRandomLen+secretCheckLen {
		return false
	}
	for _, r := range body {
		if !strings.ContainsRune(base62, r) {
			return false
		}
	}
	var sum uint64
	for _, r := range body[secretRandomLen:] {
		sum = sum*62 + uint64(strings.IndexRune(base62, r))
	}
	return sum == uint64(crc32.ChecksumIEEE([]byte(body[:secretRandomLen])))
}

func FuzzWellFormedSecret(f *testing.F) {
	f.Add(NewSecret()) // besides testdata: a fresh one each run
	f.Fuzz(func(t *testing.T, s string) {
		got := WellFormedSecret(s)
		if want := referenceWellFormed(s); got != want {
			t.Fatalf("WellFormedSecret(%q) = %v, the format says %v", s, got, want)
		}
		if !got {
			return
		}
		if len(s) != SecretLen || !strings.HasPrefix(s, "kd_") {
			t.Fatalf("accepted %q: want kd_ and %d characters", s, SecretLen)
		}
		sum := checksum(s[3 : 3+secretRandomLen])
		if s[3+secretRandomLen:] != string(sum[:]) {
			t.Fatalf("accepted %q, whose checksum is %s", s, sum[:])
		}
	})
}

// FuzzSecretChecksum builds a secret from any random part and checks that
// it passes, and that changing any one character of it makes it fail.
func FuzzSecretChecksum(f *testing.F) {
	f.Fuzz(func(t *testing.T, seed string, shift byte) {
		// Map the input onto exactly 30 base62 characters.
		random := make([]byte, secretRandomLen)
		for i := range random {
			var b byte
			if len(seed) > 0 {
				b = seed[i%len(seed)] + byte(i/len(seed))
			}
			random[i] = base62[int(b)%len(base62)]
		}
		sum := checksum(string(random))
		if want := referenceChecksum(string(random)); sum != want {
			t.Fatalf("checksum(%s) = %s, want %s", random, sum[:], want[:])
		}
		s := "kd_" + string(random) + string(sum[:])
		if !WellFormedSecret(s) {
			t.Fatalf("a secret built by the scheme is refused: %q", s)
		}
		for i := range len(s) {
			b := []byte(s)
			// Any other byte: base62 or not, printable or not.
			b[i] = s[i] + 1 + shift%255
			if WellFormedSecret(string(b)) {
				t.Fatalf("character %d changed from %q to %q and the secret still passes: %q", i, s[i], b[i], b)
			}
		}
	})
}

func referenceChecksum(s string) [secretCheckLen]byte {
	n := crc32.ChecksumIEEE([]byte(s))
	var out [secretCheckLen]byte
	for i := secretCheckLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return out
}

// FuzzDecodeCursor reads page links as someone might edit them: a cursor
// is refused or decodes to values that encode back to the same values.
func FuzzDecodeCursor(f *testing.F) {
	f.Fuzz(func(t *testing.T, cursor string, n int) {
		n = n % 8
		if n < 0 {
			n = -n
		}
		values, err := decodeCursor(cursor, n)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("decodeCursor(%q) error %v, want EINVALID", cursor, err)
			}
			return
		}
		if len(values) != n {
			t.Fatalf("decodeCursor(%q, %d) gave %d values", cursor, n, len(values))
		}
		for _, v := range values {
			switch v.(type) {
			case string, int64:
			default:
				t.Fatalf("decodeCursor(%q) gave a %T", cursor, v)
			}
		}
		again, err := decodeCursor(encodeCursor(values), n)
		if err != nil || !reflect.DeepEqual(again, values) {
			t.Fatalf("cursor %q: %v re-encoded decodes to %v, %v", cursor, values, again, err)
		}
	})
}
