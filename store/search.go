package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The key search index holds, for each key, every suffix of every word of its
// name and creator (and the public id whole). A substring of a word is a
// prefix of one of its suffixes, so the FTS4 prefix query "tok*" finds keys
// whose words contain "tok" anywhere, through the index.

// maxSuffixStart bounds the suffixes taken from one long word, so a
// pathological name cannot bloat the index.
const maxSuffixStart = 32

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
		start := 0
		for i := 0; start < len(w) && i < maxSuffixStart; i++ {
			suffix := w[start:]
			// One-letter suffixes would match nearly everything; one-letter
			// searches scan instead (see searchFilter).
			if i > 0 && utf8.RuneCountInString(suffix) < 2 {
				break
			}
			b.WriteString(suffix)
			b.WriteByte(' ')
			_, size := utf8.DecodeRuneInString(suffix)
			start += size
		}
	}
	b.WriteString(strings.ToLower(publicID))
	return b.String()
}

// searchQuery splits what a user typed into the FTS4 query for its words of
// two or more characters and the list of one-character words, which the
// index does not serve.
func searchQuery(q string) (match string, short []string) {
	var terms []string
	for _, w := range searchWords(q) {
		if utf8.RuneCountInString(w) < 2 {
			short = append(short, w)
			continue
		}
		// Words hold only letters and digits, so they cannot form FTS syntax;
		// lowercase also keeps them from being read as AND, OR or NOT.
		terms = append(terms, w+"*")
	}
	return strings.Join(terms, " "), short
}

// likePattern returns a LIKE pattern matching s anywhere, with LIKE's
// metacharacters escaped by '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
