package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// keyCSVHeader names the key export's columns.
var keyCSVHeader = []string{"id", "name", "permissions", "status", "enabled", "expires_at", "created_at", "created_by", "last_used_at", "key", "organization", "uses_24h"}

// exportKeys streams the keys that the list's query selects, every page of
// them, in the list's order, and records the export.
func (h *handler) exportKeys(c echo.Context) error {
	// The parameters, the organization included, are checked before the
	// first row goes out.
	params, _, orgs, err := h.keyListParams(c)
	if err != nil {
		return err
	}
	paths := make(map[string]string, len(orgs))
	for _, o := range orgs {
		paths[o.ID] = o.Path
	}
	now := h.now().UTC()
	out, err := newCSVStream(c, "keys", now, keyCSVHeader)
	if err != nil {
		return err
	}
	// The reading goroutine gets values, not the request's context.
	sc, filter := scope(c), params.Filter()
	each := func(ctx context.Context, fn func(store.Key) error) (int, error) {
		return h.store.EachKey(ctx, sc, filter, params.Sort, params.Desc, fn)
	}
	// With the right to reveal keys, and the password typed in the last
	// few minutes, the key column holds the whole secret of recoverable
	// keys; otherwise, and for a kept secret that does not open, the
	// truncated form. Each is counted.
	u, _ := currentUser(c)
	reveal := u.Can(store.RightKeysReveal)
	recent := reveal && h.typedPasswordRecently(c)
	var secrets, withheld, unreadable int
	n, err := readAhead(c.Request().Context(), each, func(k store.Key) error {
		key := k.Hint
		switch {
		case !reveal || !k.SecretKept || k.Uncollected:
		case !recent:
			withheld++
		default:
			secret, err := h.store.KeptSecret(c.Request().Context(), k)
			switch {
			case err != nil && store.ErrorCode(err) == "":
				return err
			case err != nil:
				unreadable++
				h.log.Warn("a kept secret could not be exported", "key", k.ID, "err", err)
			case secret != "":
				key = secret
				secrets++
			}
		}
		return out.write(k.ID, k.Name, strings.Join(k.Permissions, ";"), k.Status(now).String(), strconv.FormatBool(k.Enabled),
			csvTime(k.ExpiresAt), csvTime(k.CreatedAt), k.CreatedBy, csvTime(k.LastUsedAt), key, paths[k.OrgID],
			strconv.FormatInt(k.Uses24h, 10))
	})
	if err != nil {
		return err
	}
	if err := out.close(); err != nil {
		return err
	}
	details := map[string]any{"query": params.Values().Encode(), "rows": n}
	for name, count := range map[string]int{"secrets": secrets, "secrets_withheld": withheld, "unreadable_secrets": unreadable} {
		if count > 0 {
			details[name] = count
		}
	}
	return h.store.RecordEvent(c.Request().Context(), h.actor(c), store.ActionKeysExported, store.TargetKey, "API keys", details)
}
