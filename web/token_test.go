package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// TestProfileTokens: a user makes an access token on their profile (a
// mistake comes back beside its field, as typed), sees it once, finds it
// listed without it, and revokes it, after which it lets nobody in.
func TestProfileTokens(t *testing.T) {
	tc := newTestConsole(t)
	manager := tc.loggedIn("manager")
	d := manager.get("/profile").doc()
	if v := d.Find("[data-testid=token-expires]").AttrOr("value", ""); v == "" {
		t.Fatal("no default expiry")
	}
	if d.Find(`[data-testid="token-right-users.manage"]`).Length() != 0 || d.Find(`[data-testid="token-right-apikeys.create"]`).Length() != 1 {
		t.Fatal("the form offers rights the user does not hold, or not theirs")
	}
	// The card points to the API's description, which answers as JSON.
	link := d.Find("[data-testid=api-document-link]").AttrOr("href", "")
	if res := manager.get(link); link == "" || res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `"openapi"`) {
		t.Fatalf("the API's document at %q: %d", link, res.Code)
	}

	res := manager.post("/profile/tokens", url.Values{"name": {"ci pipeline"}, "expires_at": {"2027-01-31"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	d = res.doc()
	if d.Find("#rights-error").Text() == "" || d.Find("[data-testid=token-name]").AttrOr("value", "") != "ci pipeline" {
		t.Fatal("no right chosen: no message beside the rights, or the name was lost")
	}
	res = manager.post("/profile/tokens", url.Values{"name": {"ci pipeline"}, "rights": {"apikeys.read"}, "expires_at": {"2030-01-01"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if res.doc().Find("#expires-error").Text() == "" {
		t.Fatal("no message beside an expiry beyond a year")
	}

	res = manager.post("/profile/tokens", url.Values{"name": {"ci pipeline"}, "rights": {"apikeys.view", "apikeys.read"}, "expires_at": {"2027-01-31"}})
	wantStatus(t, res, http.StatusCreated)
	if res.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the token may be cached")
	}
	token := res.doc().Find("[data-testid=new-token]").AttrOr("value", "")
	if !strings.HasPrefix(token, store.TokenPrefix) {
		t.Fatalf("token %q", token)
	}
	u, _, err := tc.store.AuthenticateToken(t.Context(), token)
	if err != nil || u.Username != "manager" || u.Can(store.RightKeysCreate) {
		t.Fatalf("the token lets in %q with %v (%v)", u.Username, u.Rights, err)
	}
	page := manager.get("/profile")
	if strings.Contains(page.Body.String(), token) || page.doc().Find("[data-testid=token-row]").Length() != 1 {
		t.Fatal("the token is shown again, or not listed")
	}
	list, _ := tc.store.Tokens(t.Context(), store.Scope{}, 0)
	wantStatus(t, manager.post("/profile/tokens/"+list[0].ID+"/revoke", nil), http.StatusSeeOther)
	if msg := manager.get("/profile").testid("flash"); !strings.Contains(msg, "was revoked") {
		t.Fatalf("flash %q", msg)
	}
	if _, _, err := tc.store.AuthenticateToken(t.Context(), token); !errors.Is(err, store.ErrBadToken) {
		t.Fatalf("a revoked token: %v", err)
	}
}

// TestUserTokens: whoever manages users sees a user's tokens on their
// page and revokes one there; a token named under another user does not
// exist there.
func TestUserTokens(t *testing.T) {
	tc := newTestConsole(t)
	manager, _ := tc.store.Authenticate(t.Context(), "manager", testPassword)
	viewer, _ := tc.store.Authenticate(t.Context(), "viewer", testPassword)
	make := func(u store.User) (store.Token, string) {
		tok, secret, err := tc.store.CreateToken(t.Context(), store.SystemActor("test"), u.ID,
			store.NewToken{Name: "ci of " + u.Username, Rights: []store.Right{store.RightKeysView}, ExpiresAt: tc.clock.now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok, secret
	}
	mine, secret := make(manager)
	other, _ := make(viewer)
	admin := tc.loggedIn("admin")
	page := "/users/" + itoa64(manager.ID)
	if rows := admin.get(page).doc().Find("[data-testid=user-token-row]"); rows.Length() != 1 || !strings.Contains(rows.Text(), "ci of manager") {
		t.Fatalf("the user page lists %q", rows.Text())
	}
	wantStatus(t, admin.post(page+"/tokens/"+other.ID+"/revoke", nil), http.StatusNotFound)
	wantStatus(t, admin.post(page+"/tokens/"+mine.ID+"/revoke", nil), http.StatusSeeOther)
	if _, _, err := tc.store.AuthenticateToken(t.Context(), secret); !errors.Is(err, store.ErrBadToken) {
		t.Fatalf("the revoked token: %v", err)
	}
	if list, _ := tc.store.Tokens(t.Context(), store.Scope{}, viewer.ID); len(list) != 1 {
		t.Fatal("the other user's token went too")
	}
}
