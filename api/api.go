// Package api holds the OpenAPI 3.1 document of the queue server's API
// (openapi.yaml): every route, request and answer. docs/api.md is the
// guide around it. The server serves it at /api/v1/openapi.yaml, and
// api/apitest checks the server's tests' requests and answers against it.
package api

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var document []byte

// Document returns the OpenAPI document, as YAML.
func Document() []byte { return bytes.Clone(document) }
