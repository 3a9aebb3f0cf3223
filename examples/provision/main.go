// Command provision makes a key for a tenant through Keydesk's management
// API, as a provisioning script would, and prints its secret:
//
//	KEYDESK=http://127.0.0.1:8080 KEYDESK_TOKEN=kdp_… go run ./examples/provision -tenant ORG_ID -name "API key for Acme"
//
// It needs nothing but the standard library.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// Key is the part of the API's answer this program uses.
type Key struct {
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Secret      string   `json:"key"` // in the answer to its creation only
}

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func main() {
	tenant := flag.String("tenant", "*", `the organization's id, or "*" for the root`)
	name := flag.String("name", "", "the key's name")
	perms := flag.String("permissions", "nexus:consumer:chat", "permissions, comma-separated")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := CreateKey(ctx, http.DefaultClient, os.Getenv("KEYDESK"), os.Getenv("KEYDESK_TOKEN"), *tenant, *name, strings.Split(*perms, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "provision:", err)
		os.Exit(1)
	}
	fmt.Printf("made %s (%s); its secret, shown this once:\n%s\n", k.Name, k.ID, k.Secret)
}

// CreateKey makes an enabled key in tenant with the given permissions. The
// request carries an Idempotency-Key, so that sending it again after a
// lost answer makes no second key.
func CreateKey(ctx context.Context, client *http.Client, base, token, tenant, name string, permissions []string) (Key, error) {
	body, err := json.Marshal(map[string]any{"enabled": true, "tenant": tenant, "name": name, "permissions": permissions})
	if err != nil {
		return Key{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/api/v1/apikeys", bytes.NewReader(body))
	if err != nil {
		return Key{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "provision "+tenant+" "+name)
	res, err := client.Do(req)
	if err != nil {
		return Key{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		var e apiError
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Error.Code == "" {
			return Key{}, fmt.Errorf("keydesk answered %s", res.Status)
		}
		return Key{}, fmt.Errorf("%s (%s %s)", e.Error.Message, e.Error.Code, e.Error.Field)
	}
	var k Key
	err = json.NewDecoder(res.Body).Decode(&k)
	return k, err
}
