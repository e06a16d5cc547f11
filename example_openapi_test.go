package authx_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/authx-go/authx"
)

// An OpenAPI 3.1 document for a guarded operation: the operation's
// security from its guard, components.securitySchemes from the Auth.
func ExampleGuard_Security() {
	a, err := authx.New[string](authx.WithSecret(exampleSecret), authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	if err != nil {
		fmt.Println(err)
		return
	}
	reports := a.Require(authx.Any(authx.Scopes("reports:read"), authx.Scopes("admin:*")))
	schemes := a.SecuritySchemes(reports)
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "reports", "version": "1"},
		"paths": map[string]any{"/reports": map[string]any{"get": map[string]any{
			"security":  reports.Security(),
			"responses": map[string]any{"200": map[string]any{"description": "the reports"}},
		}}},
		"components": map[string]any{"securitySchemes": schemes},
	}
	paths, err := json.Marshal(doc["paths"])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(paths))
	for _, name := range slices.Sorted(maps.Keys(schemes)) {
		s := schemes[name]
		fmt.Println(name, s.Type, s.Scheme+s.In, s.Name+s.BearerFormat)
	}
	// Output:
	// {"/reports":{"get":{"responses":{"200":{"description":"the reports"}},"security":[{"AuthXBearer":["reports:read"]},{"AuthXBearer":["admin:*"]},{"AuthXAccessCookie":["reports:read"]},{"AuthXAccessCookie":["admin:*"]}]}}}
	// AuthXAccessCookie apiKey cookie access_token_cookie
	// AuthXBearer http bearer JWT
}
