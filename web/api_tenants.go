package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiTenant is an organization as the management API answers it.
type apiTenant struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Path   string `json:"path"`
	Parent string `json:"parent"` // "" for the root
}

func apiTenantOf(o store.Org) apiTenant {
	return apiTenant{ID: o.ID, Name: o.Name, Path: o.Path, Parent: o.ParentID}
}

// apiListTenants answers the caller's organizations, in tree order.
func (h *handler) apiListTenants(c echo.Context) error {
	u, _ := apiCaller(c)
	orgs, err := h.store.Orgs(c.Request().Context(), u.Scope())
	if err != nil {
		return apiFail(c, err)
	}
	data := make([]apiTenant, len(orgs))
	for i, o := range orgs {
		data[i] = apiTenantOf(o)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data})
}

// apiNewTenant is a new organization: its name and parent (the caller's
// own when left out).
type apiNewTenant struct {
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

// apiCreateTenant adds an organization below one of the caller's.
func (h *handler) apiCreateTenant(c echo.Context) error {
	var in apiNewTenant
	if ok, err := decodeAPIBody(c, &in); !ok {
		return err
	}
	o, err := h.store.CreateOrg(c.Request().Context(), apiActor(c), in.Name, in.Parent)
	if err != nil {
		return apiFail(c, err, "org", "parent")
	}
	return c.JSON(http.StatusCreated, apiTenantOf(o))
}
