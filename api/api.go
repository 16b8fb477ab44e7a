// Package api holds Herald's OpenAPI document, the source of truth for the
// REST surface. The Echo server interface and the Go client are generated
// from it with oapi-codegen (make generate).
package api

import _ "embed"

//go:generate go tool oapi-codegen -config server.cfg.yaml openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml openapi.yaml

// Spec is the OpenAPI document as written, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var Spec []byte
