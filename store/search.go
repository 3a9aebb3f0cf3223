package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The key search is in two steps, each through an FTS4 index:
//
//   - word_search holds every suffix of every word that a key's name or
//     creator has ever had (search_words, each word once). A substring of
//     a word is a prefix of one of its suffixes, so the prefix query
//     "tok*" lists the words that contain "tok" anywhere.
//   - key_search holds each key's words, once each: the words found in
//     the first step, ORed, list the keys.
//
// A million keys share a few thousand words, so the suffixes cost little;
// the index of the keys holds four or five short words per key. A query
// word found in too many words (one letter, a digit or two) leaves the
// search to its LIKE conditions (see searchPart). The public id is not in
// either index: a word of two letters or more that starts one is found in
// the id's unique index.

// searchWords splits text into lowercase words of letters and digits.
func searchWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// keyWords is the text indexed for a key: the words of its name and
// creator. The view key_search_text computes it from the stored key, for
// the index to read back.
func keyWords(name, creator string) string {
	return strings.Join(searchWords(name+" "+creator), " ")
}

// keyWordsOld is keyWords under the name and arguments of the function
// that migrations 006 and 008 call.
func keyWordsOld(name, creator, _ string) string { return keyWords(name, creator) }

// wordSuffixes is the text word_search indexes for a word: its suffixes,
// down to its last letter.
func wordSuffixes(word string) string {
	var b strings.Builder
	for start := 0; start < len(word); {
		if start > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(word[start:])
		_, size := utf8.DecodeRuneInString(word[start:])
		start += size
	}
	return b.String()
}

// addWords adds words to search_words and word_search, each once.
func addWords(ctx context.Context, tx execer, words []string) error {
	for _, w := range words {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO search_words (word) VALUES (?)`, w)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			continue
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO word_search (docid, terms) VALUES (?, ?)`, id, wordSuffixes(w)); err != nil {
			return err
		}
	}
	return nil
}

// searchWordCap is the most words a query word leads to for the key index
// to be asked: a longer list of ORs costs more than testing keys one by
// one. Tests lower it.
var searchWordCap = 1000

// wordsContaining returns the words that contain w, or ok false when
// there are more than searchWordCap.
func wordsContaining(ctx context.Context, tx *sql.Tx, w string) (words []string, ok bool, err error) {
	// w holds only letters and digits, so it cannot form FTS syntax;
	// lowercase keeps it from being read as AND, OR or NOT.
	query := `SELECT w.word FROM word_search s CROSS JOIN search_words w ON w.id = s.docid
		WHERE word_search MATCH ? LIMIT ` + strconv.Itoa(searchWordCap+1)
	words, err = allRows(ctx, tx, func(r rowScanner) (string, error) {
		var word string
		err := r.Scan(&word)
		return word, err
	}, query, w+"*")
	if err != nil {
		return nil, false, err
	}
	return words, len(words) <= searchWordCap, nil
}

// likePattern returns a LIKE pattern matching s anywhere, with LIKE's
// metacharacters escaped by '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
