package web

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/internal/pgtest"
)

// The OpenAPI document, loaded once for every test console.
var apiDoc = sync.OnceValues(func() (*apiDocCheck, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apiDocumentJSON)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	// The router matches whole addresses; the document's server is relative.
	doc.Servers = openapi3.Servers{{URL: "http://keydesk.test/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &apiDocCheck{doc: doc, router: router, answered: map[string]bool{}}, nil
})

// apiDocCheck holds answers of the API to the OpenAPI document, and
// remembers which operations answered with a success.
type apiDocCheck struct {
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	answered map[string]bool // operation ids
}

// conformingTo wraps a test console's handler: every answer under /api/
// must be what the OpenAPI document says the operation answers with that
// status, and every request that succeeds must be one the document
// describes. An answer of no operation (an unknown path, a wrong method)
// must be the document's Error.
func conformingTo(t *testing.T, next http.Handler) http.Handler {
	check, err := apiDoc()
	if err != nil {
		t.Fatalf("the OpenAPI document: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for name, values := range rec.Header() {
			w.Header()[name] = values
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		if err := check.answer(r, body, rec); err != nil {
			t.Errorf("%s %s answered %d, which the OpenAPI document does not allow: %v\n%s", r.Method, r.URL, rec.Code, err, rec.Body)
		}
	})
}

// answer checks one request and its answer against the document.
func (d *apiDocCheck) answer(r *http.Request, body []byte, rec *httptest.ResponseRecorder) error {
	ctx := context.Background()
	u := *r.URL
	u.Scheme, u.Host = "http", "keydesk.test"
	probe := r.Clone(ctx)
	probe.URL = &u
	probe.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := d.router.FindRoute(probe)
	if err != nil {
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			return fmt.Errorf("no operation of the document takes it (%v)", err)
		}
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			return err
		}
		return d.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if rec.Code < 300 {
		// A request the server took must be one the document describes.
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the request: %w", err)
		}
		d.mu.Lock()
		d.answered[route.Operation.OperationID] = true
		d.mu.Unlock()
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: opts}
	out.SetBodyBytes(rec.Body.Bytes())
	return openapi3filter.ValidateResponse(ctx, out)
}

// TestMain runs the tests on SQLite and on PostgreSQL (see pgtest.Both);
// after a run of them all, every operation of the OpenAPI document must
// have answered some test with a success.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Both("web", func() int {
		code := m.Run()
		whole := true
		for _, name := range []string{"test.run", "test.skip", "test.fuzz"} {
			whole = whole && flag.Lookup(name).Value.String() == ""
		}
		if code == 0 && whole {
			if missed := apiOperationsNotAnswered(); len(missed) > 0 {
				fmt.Fprintf(os.Stderr, "FAIL: no test got a success from these operations of the OpenAPI document: %s\n", strings.Join(missed, ", "))
				code = 1
			}
		}
		return code
	}))
}

// apiOperationsNotAnswered are the document's operations no test has had
// a success from.
func apiOperationsNotAnswered() []string {
	d, err := apiDoc()
	if err != nil {
		return []string{err.Error()}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var missed []string
	for _, item := range d.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !d.answered[op.OperationID] {
				missed = append(missed, op.OperationID)
			}
		}
	}
	slices.Sort(missed)
	return missed
}

// TestAPIDocumentDescribesEveryRoute: each route under /api/v1 is a path
// and method of the OpenAPI document, and each of the document's is a
// route, so that neither can gain one alone. The server answers the
// document as JSON, and its status, without a token.
func TestAPIDocumentDescribesEveryRoute(t *testing.T) {
	tc := newTestConsole(t)
	d, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range d.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" /api/v1"+path)
		}
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	var routes []string
	for _, r := range tc.echo.Routes() {
		if r.Method == echo.RouteNotFound || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		routes = append(routes, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(routes)
	if !slices.Equal(documented, routes) {
		t.Fatalf("the document has\n%s\nthe server routes\n%s", strings.Join(documented, "\n"), strings.Join(routes, "\n"))
	}

	if res := tc.client().get("/api/v1/status"); res.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/status: %d", res.Code)
	}
	res := tc.client().get("/api/v1/openapi.json")
	var doc map[string]any
	if res.Code != http.StatusOK || json.Unmarshal(res.Body.Bytes(), &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("GET /api/v1/openapi.json: %d %.200s", res.Code, res.Body)
	}
}
