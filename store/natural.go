package store

import (
	"strings"
)

// naturalDigits is the width every run of digits is padded to in a sort
// key: enough for any 64-bit number.
const naturalDigits = 20

// sortName returns the key that orders names naturally: case folded, and
// every run of digits compared as a number, so that apac-9 comes before
// apac-10 and a copy NAME_10 after NAME_9. Each run is written without its
// leading zeros and padded to naturalDigits; runs longer than that (not
// numbers anyone counts with) are kept as they are. Stored beside the
// name so that an index can serve the order.
func sortName(name string) string {
	folded := foldName(name)
	var b strings.Builder
	b.Grow(len(folded) + naturalDigits)
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
		if len(run) < naturalDigits {
			b.WriteString(strings.Repeat("0", naturalDigits-len(run)))
		}
		b.WriteString(run)
		i = j
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
