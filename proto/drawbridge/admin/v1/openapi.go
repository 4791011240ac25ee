package adminv1

import _ "embed"

// OpenAPI is the generated OpenAPI (Swagger 2.0) document of the REST face
// of AdminService, as served at /v1/openapi.json. Regenerate with
// `make proto`.
//
//go:embed admin.swagger.json
var OpenAPI []byte
