package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The key search index holds, for each key, every suffix of every word of its
// name and creator (and the public id whole). A substring of a word is a
// prefix of one of its suffixes, so the FTS4 prefix query "tok*" finds keys
// whose words contain "tok" anywhere, through the index: exactly the keys
// that searchPart's LIKE conditions match, save that a one-letter query
// word also finds the public ids that start with it. Names and usernames
// are short (MaxKeyNameLen), so every suffix is kept.

// searchWords splits text into lowercase words of letters and digits.
func searchWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// searchTerms is the text indexed for a key. The view key_search_text
// computes it from the stored key, for the index to read back.
func searchTerms(name, creator, publicID string) string {
	var b strings.Builder
	for _, w := range append(searchWords(name), searchWords(creator)...) {
		for start := 0; start < len(w); {
			b.WriteString(w[start:])
			b.WriteByte(' ')
			_, size := utf8.DecodeRuneInString(w[start:])
			start += size
		}
	}
	b.WriteString(strings.ToLower(publicID))
	return b.String()
}

// likePattern returns a LIKE pattern matching s anywhere, with LIKE's
// metacharacters escaped by '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
