package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzVerifyRequest checks the verification API's parser: it never panics,
// refuses with 400 or 415, and what it accepts is one JSON object of the
// known fields, read as it was sent, with nothing after it. The seed corpus
// is in testdata/fuzz/FuzzVerifyRequest.
func FuzzVerifyRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req, rerr := parseVerifyRequest(body, contentType)
		if rerr != nil {
			switch {
			case rerr.status == http.StatusBadRequest && rerr.code == "BAD_REQUEST":
			case rerr.status == http.StatusUnsupportedMediaType && rerr.code == "UNSUPPORTED_MEDIA_TYPE":
			default:
				t.Fatalf("refused with %d %s", rerr.status, rerr.code)
			}
			if rerr.message == "" {
				t.Fatal("refused without a message")
			}
			return
		}
		if req.Key == nil {
			t.Fatal("accepted without a key")
		}

		// The body, read by another parser, holds the same fields and no other.
		var sent map[string]any
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		for name := range sent {
			if name != "key" && name != "permission" && name != "org" {
				t.Fatalf("accepted the field %q", name)
			}
		}
		if sent["key"] != *req.Key {
			t.Fatalf("key %q, sent %q", *req.Key, sent["key"])
		}
		if p, ok := sent["permission"]; ok && p != nil && p != req.Permission {
			t.Fatalf("permission %q, sent %q", req.Permission, p)
		}
		if o, ok := sent["org"]; ok && o != nil && o != req.Org {
			t.Fatalf("org %q, sent %q", req.Org, o)
		}

		// Re-encoded, it is accepted again as the same request.
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		req2, rerr := parseVerifyRequest(again, "application/json")
		if rerr != nil {
			t.Fatalf("the re-encoded request %s is refused: %s", again, rerr.message)
		}
		if *req2.Key != *req.Key || req2.Permission != req.Permission || req2.Org != req.Org {
			t.Fatalf("re-encoded %s reads as %+v, want %+v", again, req2, req)
		}

		// Anything after the object is refused.
		for _, tail := range []string{"x", "{}", `{"key":"kd_x"}`, "0", `"`, ",", "\x00"} {
			withTail := append(bytes.Clone(body), tail...)
			if _, rerr := parseVerifyRequest(withTail, contentType); rerr == nil || rerr.status != http.StatusBadRequest {
				t.Fatalf("accepted trailing data: %q", withTail)
			}
		}
	})
}
