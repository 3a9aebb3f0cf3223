package store

import (
	"hash/crc32"
	"strings"
	"testing"
)

func TestNewSecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s := NewSecret()
		if len(s) != SecretLen || !strings.HasPrefix(s, "kd_") {
			t.Fatalf("secret %q: want kd_ and %d characters", s, SecretLen)
		}
		if !WellFormedSecret(s) {
			t.Fatalf("secret %q fails its own checksum", s)
		}
		if seen[s] {
			t.Fatalf("secret %q repeated", s)
		}
		seen[s] = true
	}
}

func TestWellFormedSecretCatchesTypos(t *testing.T) {
	s := NewSecret()
	for i := len("kd_"); i < len(s); i++ {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		if WellFormedSecret(string(b)) {
			t.Errorf("secret with character %d changed passes: %q", i, b)
		}
	}
	for _, bad := range []string{"", "kd_", s[:len(s)-1], s + "x", "xx" + s[2:], strings.Replace(s, s[5:6], "!", 1)} {
		if WellFormedSecret(bad) {
			t.Errorf("WellFormedSecret(%q) = true", bad)
		}
	}
}

func TestSecretHint(t *testing.T) {
	s := "kd_AbCdefghijklmnopqrstuvwxyz0123WXYZ12"
	if got, want := secretHint(s), "kd_AbC…YZ12"; got != want {
		t.Fatalf("hint = %q, want %q", got, want)
	}
}

func TestPublicIDs(t *testing.T) {
	id := newPublicID()
	if len(id) != PublicIDLen || strings.ToLower(id) != id {
		t.Fatalf("public id %q: want %d lowercase characters", id, PublicIDLen)
	}
}

func TestChecksumIsCRC32(t *testing.T) {
	s := "0123456789abcdefghijABCDEFGHIJ"
	n := crc32.ChecksumIEEE([]byte(s))
	var want [secretCheckLen]byte
	for i := secretCheckLen - 1; i >= 0; i-- {
		want[i] = base62[n%62]
		n /= 62
	}
	if got := checksum(s); got != want {
		t.Fatalf("checksum %s, want %s", got[:], want[:])
	}
}
