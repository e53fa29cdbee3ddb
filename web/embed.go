// Package web holds the server's page templates (html/template) and static
// assets (style sheet, scripts, icon), embedded in the binary. The
// handlers that fill them live in server/web.
package web

import "embed"

// Templates are templates/*.html: layout.html and one file per page.
//
//go:embed templates/*.html
var Templates embed.FS

// Static are static/*: served under /static/.
//
//go:embed static
var Static embed.FS
