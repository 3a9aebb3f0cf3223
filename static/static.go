// Package static holds the console's assets, embedded in the binary: the
// stylesheet, the script and the vendored htmx.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed *.css *.js *.svg
var Files embed.FS

var versions = sync.OnceValue(func() map[string]string {
	v := map[string]string{}
	entries, _ := fs.ReadDir(Files, ".")
	for _, e := range entries {
		b, err := Files.ReadFile(e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		v[e.Name()] = hex.EncodeToString(sum[:4])
	}
	return v
})

// Path returns the URL of an asset with its content hash, so browsers may
// cache it for good and still fetch a new version after an upgrade.
func Path(name string) string {
	return "/static/" + name + "?v=" + versions()[name]
}
