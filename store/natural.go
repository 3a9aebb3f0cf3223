package store

import "strings"

// sortName returns the key that orders names naturally: case folded, and
// every run of digits compared as a number, so that apac-9 comes before
// apac-10 and a copy NAME_10 after NAME_9. Stored beside the name so that
// an index can serve the order, and carried by every sort index, so it is
// kept short: a run is written without its leading zeros, after its
// length (see writeNumber).
func sortName(name string) string {
	folded := foldName(name)
	var b strings.Builder
	b.Grow(len(folded) + 3)
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
		writeNumber(&b, strings.TrimLeft(folded[i:j], "0"))
		i = j
	}
	return b.String()
}

// writeNumber writes a run of digits, without its leading zeros, so that
// runs compare as numbers: its length comes first, as one digit up to 8
// digits, or '9' and two digits from 9 to 19, and the shorter number sorts
// first. A run of 20 digits or more (not a number anyone counts with) is
// written "920" and as it is, compared digit by digit, as the first
// version of this key compared it (that one padded every run to 20
// digits). The length is made of digits, so a run still sorts among other
// characters as a digit does.
func writeNumber(b *strings.Builder, run string) {
	switch n := len(run); {
	case n <= 8:
		b.WriteByte('0' + byte(n))
	case n < 20:
		b.Write([]byte{'9', '0' + byte(n/10), '0' + byte(n%10)})
	default:
		b.WriteString("920")
	}
	b.WriteString(run)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
