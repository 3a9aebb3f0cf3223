package store

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// paddedSortName is the first version of sortName, which padded every run
// of digits to 20: the order of names must not change with the encoding.
func paddedSortName(name string) string {
	folded := foldName(name)
	var b strings.Builder
	for i := 0; i < len(folded); {
		if !isDigit(folded[i]) {
			b.WriteByte(folded[i])
			i++
			continue
		}
		j := i
		for j < len(folded) && isDigit(folded[j]) {
			j++
		}
		run := strings.TrimLeft(folded[i:j], "0")
		if len(run) < 20 {
			b.WriteString(strings.Repeat("0", 20-len(run)))
		}
		b.WriteString(run)
		i = j
	}
	return b.String()
}

// checkSameOrder fails when a and b compare differently by sortName than by
// paddedSortName (equal keys included: ties are broken by id).
func checkSameOrder(t *testing.T, a, b string) {
	t.Helper()
	want := strings.Compare(paddedSortName(a), paddedSortName(b))
	if got := strings.Compare(sortName(a), sortName(b)); got != want {
		t.Fatalf("%q vs %q: compare %d, the padded keys %d (%q, %q)", a, b, got, want, sortName(a), sortName(b))
	}
}

// randomName draws names that stress the digit runs: runs of every length
// around the encoding's limits, leading zeros, and the characters on
// either side of the digits in byte order.
func randomName(rng *rand.Rand) string {
	parts := []string{"a", "B", "-", "/", ":", ".", " ", "_", "é", "Z", "~", "\x7f"}
	var b strings.Builder
	for range rng.IntN(5) {
		if rng.IntN(2) == 0 {
			b.WriteString(parts[rng.IntN(len(parts))])
			continue
		}
		b.WriteString(strings.Repeat("0", rng.IntN(3)*rng.IntN(12)))
		n := rng.IntN(24)
		if rng.IntN(3) == 0 {
			n = rng.IntN(4)
		}
		for i := range n {
			d := byte('0' + rng.IntN(10))
			if i == 0 && rng.IntN(2) == 0 {
				d = '9'
			}
			b.WriteByte(d)
		}
		if rng.IntN(4) == 0 {
			b.WriteString(parts[rng.IntN(len(parts))]) // keeps a following run apart
		}
	}
	return b.String()
}

func TestSortNameKeepsThePaddedOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	names := []string{"", "0", "00", "1", "9", "10", "99999999", "100000000", "1234567890123456789",
		"9999999999999999999", "10000000000000000000", "99999999999999999999", "100000000000000000000",
		"12345678901234567890/", "12345678901234567890:", "123456789012345678901", "a/", "a0", "a:", "a"}
	for range 2000 {
		names = append(names, randomName(rng))
	}
	for _, a := range names {
		for _, b := range names[:200] {
			checkSameOrder(t, a, b)
			checkSameOrder(t, b, a)
		}
	}
	for range 200_000 {
		checkSameOrder(t, randomName(rng), randomName(rng))
	}
}

func FuzzSortNameKeepsThePaddedOrder(f *testing.F) {
	f.Add("apac-9", "APAC-10")
	f.Add("x00", "x")
	f.Add("v99999999999999999999:", "v999999999999999999999")
	f.Fuzz(func(t *testing.T, a, b string) {
		checkSameOrder(t, a, b)
	})
}

func TestSortNameIsShort(t *testing.T) {
	for name, want := range map[string]string{
		"billing-prod-eu-1234":        "billing-prod-eu-41234",
		"a-007":                       "a-17",
		"x0":                          "x0",
		"n123456789":                  "n909123456789",
		"n" + strings.Repeat("1", 25): "n920" + strings.Repeat("1", 25),
	} {
		if got := sortName(name); got != want {
			t.Errorf("sortName(%q) = %q, want %q", name, got, want)
		}
	}
}
