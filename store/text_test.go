package store

import (
	"context"
	"errors"
	"testing"
)

// TestEveryTypedNameFollowsTheTextRule tries control characters and
// direction overrides in every name and description a person types.
func TestEveryTypedNameFollowsTheTextRule(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, _ := mustCreateKey(t, s, NewKey{Name: "plain"})
	fields := []struct {
		name  string
		field string
		set   func(text string) error
	}{
		{"key name", "name", func(text string) error {
			_, _, err := s.CreateKey(ctx, testActor, NewKey{Name: text, Permissions: []string{"chat"}, Capacity: 1, Frequency: 1})
			return err
		}},
		{"key rename", "name", func(text string) error { _, err := s.RenameKey(ctx, testActor, k.ID, text); return err }},
		{"role name", "name", func(text string) error {
			_, err := s.CreateRole(ctx, testActor, RoleInput{Name: text, Rights: []Right{RightAudit}})
			return err
		}},
		{"display name", "display_name", func(text string) error {
			_, err := s.CreateUser(ctx, testActor, NewUser{Username: "someone", DisplayName: text, Password: "a long enough password", RoleID: RoleViewer})
			return err
		}},
		{"permission description", "permission_description", func(text string) error {
			_, err := s.CreatePermission(ctx, testActor, Permission{Name: "reports", Description: text})
			return err
		}},
	}
	bad := map[string]string{
		"escape":           "red\x1b[31malert",
		"NUL":              "nul\x00byte",
		"carriage return":  "line\rover",
		"right-to-left":    "billing\u202egnp.exe",
		"isolate":          "a\u2066b",
		"left-to-right":    "a\u200eb",
		"invalid encoding": "bad\xffbyte",
	}
	for _, f := range fields {
		for what, text := range bad {
			err := f.set(text)
			var se *Error
			if !errors.As(err, &se) || se.Code != EINVALID || se.Field != f.field {
				t.Errorf("%s with %s: %v, want an invalid %q", f.name, what, err, f.field)
			}
		}
	}
	// Letters from anywhere are fine.
	for i, f := range fields {
		if err := f.set("Zoë 日本 №" + string(rune('a'+i))); err != nil {
			t.Errorf("%s with plain Unicode: %v", f.name, err)
		}
	}
}

func TestPrintableEscapesWhatTheRuleRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"plain Zoë":          "plain Zoë",
		"red\x1b[31m":        `red\x1b[31m`,
		"a\u202eb":           `a\u202eb`,
		"nul\x00":            `nul\x00`,
		"bad\xffbyte":        `bad\xffbyte`,
		"tab\there\u0085nel": `tab\x09here\u0085nel`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		if TextProblem(Printable(in)) != "" {
			t.Errorf("Printable(%q) is still refused", in)
		}
	}
}
