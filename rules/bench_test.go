package rules_test

import (
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/rules"
)

// BenchmarkGuard measures a guarded request's whole Check with a rule set
// against the floor: the same guard with a bare Scopes policy.
//
//	go test -run '^$' -bench . -benchmem ./rules
func BenchmarkGuard(b *testing.B) {
	a := newAuth(b)
	docs := rules.Set(
		rules.Allow("GET /docs/{id}", authx.Scopes("docs:read")),
		rules.Deny("DELETE /docs/{id}").Because("delete disabled"),
		rules.Allow("DELETE /docs/{id}", authx.Scopes("docs:write")),
		rules.Allow("POST /users/{id}/ban", authx.Scopes("admin:users:ban")),
		rules.Deny("/admin/"),
	)
	tenancy := rules.Set(
		rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant_id").EqualsPathValue("tenant"), rules.Claim("profile.age").Gte(18)),
		rules.Deny("/admin/"),
	)
	tests := []struct {
		name   string
		policy authx.Policy
		target string
	}{
		{"floor: Scopes", authx.Scopes("docs:read"), "/docs/1"},
		{"Set: 5 rules, scopes", docs, "/docs/1"},
		{"Set: path value and claim", tenancy, "/tenants/acme/invoices"},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			g := a.Require(tt.policy)
			r := request(b, a, "GET", tt.target, "alice", authx.Grant("docs:read"),
				authx.Claim("tenant_id", "acme"), authx.Claim("profile", map[string]any{"age": 30}))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Check(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
