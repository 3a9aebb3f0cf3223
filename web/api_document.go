package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiDocumentJSON describes the API under /api/v1 in OpenAPI 3.1. The
// tests hold every answer of the API to it, and every route to a path of
// it.
//
//go:embed openapi.json
var apiDocumentJSON []byte

// apiDocument answers the OpenAPI document, to anyone: it describes the
// API, and holds nothing of the server's.
func (h *handler) apiDocument(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, apiDocumentJSON)
}
