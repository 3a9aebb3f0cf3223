package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/labstack/echo/v4"
)

// Pages are compressed, and a compressed page that holds a secret beside
// text an attacker chose (a search reflected from the address) leaks the
// secret through its size (BREACH). So the CSRF token never appears in a
// page as it is: each page carries it XORed with a fresh random pad, and
// unmaskCSRF turns what comes back into the token again before Echo's CSRF
// check compares it with the cookie.

var maskEncoding = base64.RawURLEncoding

// maskPrefix marks a masked token; the dot is in neither the token's
// alphabet nor base64's, so a token sent as it is cannot pass for one.
const maskPrefix = "m."

// maskToken returns token hidden under a random pad: pad, then pad XOR token.
func maskToken(token string) string {
	masked := make([]byte, 2*len(token))
	pad, sealed := masked[:len(token)], masked[len(token):]
	rand.Read(pad)
	subtle.XORBytes(sealed, pad, []byte(token))
	return maskPrefix + maskEncoding.EncodeToString(masked)
}

// unmaskToken reverses maskToken; ok is false for anything it did not make.
func unmaskToken(masked string) (token string, ok bool) {
	rest, found := strings.CutPrefix(masked, maskPrefix)
	if !found {
		return "", false
	}
	b, err := maskEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return "", false
	}
	half := len(b) / 2
	out := make([]byte, half)
	subtle.XORBytes(out, b[:half], b[half:])
	return string(out), true
}

// unmaskCSRF replaces a masked token in the X-CSRF-Token header or the
// _csrf field with the token itself. A value that is not masked is left
// as it is: the CSRF check then compares it as sent.
func unmaskCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if v := r.Header.Get("X-CSRF-Token"); v != "" {
			if token, ok := unmaskToken(v); ok {
				r.Header.Set("X-CSRF-Token", token)
			}
		}
		// bodyFormOnly has parsed a posted form into r.Form.
		if vs := r.Form["_csrf"]; len(vs) > 0 {
			if token, ok := unmaskToken(vs[0]); ok {
				r.Form.Set("_csrf", token)
			}
		}
		return next(c)
	}
}
