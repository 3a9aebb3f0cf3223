package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// apiNotFound answers every request under /api/ that no API route takes:
// 405 with an Allow header when the path exists for other methods, 404
// otherwise, in JSON. Without it the console's catch-all would send the
// caller to the login page, with the query (a key, perhaps) in next.
func (h *handler) apiNotFound(c echo.Context) error {
	var allow []string
	path := c.Request().URL.Path
	for _, r := range c.Echo().Routes() {
		if r.Method != echo.RouteNotFound && routeMatches(r.Path, path) && !slices.Contains(allow, r.Method) {
			allow = append(allow, r.Method)
		}
	}
	if len(allow) == 0 {
		return apiErr(c, http.StatusNotFound, "NOT_FOUND", "There is no API at this address.")
	}
	slices.Sort(allow)
	c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
	return apiErr(c, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		"This address answers "+strings.Join(allow, " and ")+" only.")
}

// routeMatches reports whether path is one that the route pattern takes:
// the same segments, a :name standing for any one.
func routeMatches(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] && (!strings.HasPrefix(want[i], ":") || got[i] == "") {
			return false
		}
	}
	return true
}
