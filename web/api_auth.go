package web

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// The management API's caller, as requireToken leaves them in the context.
const (
	apiUserKey  = "api-user"
	apiTokenKey = "api-token"
)

// requireToken lets in the management API's callers: an access token in
// Authorization, as "Bearer kdp_…" or, as the provisioning API takes it,
// bare. The caller acts as the token's user, with the rights and the
// organizations the token grants. Anything else is a 401 in JSON.
func (h *handler) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization))
		token := header
		if scheme, rest, ok := strings.Cut(header, " "); ok && strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimSpace(rest)
		}
		if token == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="keydesk"`)
			return apiFail(c, store.Errorf(store.EUNAUTHORIZED, "", "Send an access token: Authorization: Bearer kdp_…. Make one on your profile."))
		}
		u, t, err := h.store.AuthenticateToken(c.Request().Context(), token)
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="keydesk", error="invalid_token"`)
			return apiFail(c, err)
		}
		c.Set(apiUserKey, u)
		c.Set(apiTokenKey, t)
		if err := h.limitAPI(c); err != nil || c.Response().Committed {
			return err
		}
		return next(c)
	}
}

// apiCaller is the management API's caller and their token.
func apiCaller(c echo.Context) (store.User, store.Token) {
	u, _ := c.Get(apiUserKey).(store.User)
	t, _ := c.Get(apiTokenKey).(store.Token)
	return u, t
}

// requireAPIRights lets in the API callers whose token grants every one
// of rights; others get a FORBIDDEN answer that names what is missing.
func (h *handler) requireAPIRights(rights ...store.Right) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, _ := apiCaller(c)
			for _, r := range rights {
				if !u.Can(r) {
					return apiFail(c, store.Errorf(store.EFORBIDDEN, "", "Your token does not grant %s.", r))
				}
			}
			return next(c)
		}
	}
}

// apiActor is the API caller as the store records who made a change:
// the token's user, and the token.
func apiActor(c echo.Context) store.Actor {
	u, t := apiCaller(c)
	return store.Actor{UserID: u.ID, Username: u.Username, ClientAddr: c.RealIP(), UserAgent: c.Request().UserAgent(), Scope: u.Scope(),
		Token: t.ID + " (" + t.Name + ")"}
}

// apiErrorCodes are the management API's error codes, one per kind of the
// store's errors: what went wrong, not only the HTTP status.
var apiErrorCodes = map[string]string{
	store.EINVALID:      "INVALID",
	store.ENOTFOUND:     "NOT_FOUND",
	store.ECONFLICT:     "CONFLICT",
	store.EFORBIDDEN:    "FORBIDDEN",
	store.ELIMITED:      "RATE_LIMITED",
	store.EUNAUTHORIZED: "UNAUTHORIZED",
}

// apiFail answers an error of the management API in JSON: the store's
// errors with their kind's code, their message and their field, by the
// name the request gave it (fields, store's name to the request's: the
// store names fields as the console's forms do); any other error as the
// HTTP error handler would, its cause logged there.
func apiFail(c echo.Context, err error, fields ...string) error {
	var se *store.Error
	if !errors.As(err, &se) {
		return err
	}
	status, msg := statusOf(err)
	field := se.Field
	for i := 0; i+1 < len(fields); i += 2 {
		if field == fields[i] {
			field = fields[i+1]
			break
		}
	}
	return c.JSON(status, apiError{Error: apiErrorBody{Code: apiErrorCodes[se.Code], Message: msg, Field: field}})
}

// keyFields are the API's names of the fields of a key the store calls
// otherwise, for apiFail.
var keyFields = []string{"org", "tenant", "expires_at", "expires"}
