package views

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsCurrent fails when a *_templ.go file does not match
// what its .templ source generates: run the generate task and commit both.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the templ tool")
	}
	sources, err := filepath.Glob("*.templ")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no templ sources: %v", err)
	}
	for _, src := range sources {
		cmd := exec.Command("go", "tool", "templ", "generate", "-f", src, "-stdout")
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("templ generate %s: %v\n%s", src, err, stderr.String())
		}
		committed, err := os.ReadFile(strings.TrimSuffix(src, ".templ") + "_templ.go")
		if err != nil {
			t.Fatalf("%s has no generated file: %v", src, err)
		}
		if !bytes.Equal(out.Bytes(), committed) {
			t.Errorf("%s_templ.go is stale: run 'go tool templ generate' (task generate) and commit it", strings.TrimSuffix(src, ".templ"))
		}
	}
}
