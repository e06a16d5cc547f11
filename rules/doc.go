// Package rules is a small declarative rule engine whose rule sets are
// [authx.Policy] values: allow and deny rules matched against the guarded
// request, with conditions on claims, the subject and the request, deny
// overriding allow, and deny by default. It ports the policy engine of
// Python AuthX 1.7 (PolicyEngine, PolicyRule, PolicyCondition) the Go way.
//
//	set := rules.Set(
//		rules.Allow("GET /docs/{id}", authx.Scopes("docs:read")),
//		rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant_id").EqualsPathValue("tenant")),
//		rules.Deny("DELETE /docs/{id}").Because("delete disabled"),
//	)
//	mux.Handle("/", a.Require(set).Wrap(app))
//
// # Rules
//
// A rule is built by [Allow] or [Deny] from an [http.ServeMux] pattern
// ("GET /docs/{id}", "/admin/", "POST example.com/x",
// "GET /files/{path...}", "/{$}") and conditions. It matches a request
// when ServeMux would route the request to the pattern — the matching is
// delegated to a ServeMux, so "GET" matches HEAD too, "/admin/" matches
// its whole subtree, a host pattern only that host — and every condition
// holds. A request ServeMux would redirect (an unclean path such as
// "/a/../b", or "/admin" for "/admin/") matches no rule. The request is
// the one the guard received ([authx.RequestFrom]); outside a guarded
// request nothing matches and the set denies.
//
// # Conditions
//
// A condition is any [authx.Policy]: nil from Check means it holds; an
// error that is a denial (a 4xx authx error such as [authx.ErrForbidden],
// [authx.ErrInsufficientScope] or [authx.ErrNotFresh]) means it does not.
// Any other error — a failure to answer ([authx.StatusOf] 500 or more:
// [authx.ErrUnavailable], [authx.ErrMisconfigured], an error authx does
// not know) or no caller to ask about ([authx.ErrSubjectNotFound],
// [authx.ErrNoToken]) — ends the decision with that error: the set fails
// closed, it never skips the rule, so an outage cannot lift a deny rule.
//
// The package's conditions are [Claim] (operators on claims by dotted
// path), [Claim]'s EqualsPathValue (a wildcard of the rule's pattern equals
// a claim: the tenant in the path is the token's tenant), [Subject] (a
// test on the application's user) and [Request]; authx's own policies
// ([authx.Scopes], [authx.Fresh], [authx.Any], …) are conditions as they
// are, and [authx.PolicyFunc] is the custom evaluator.
//
// # Decision
//
// The rules are tried in order. The first deny rule that matches decides:
// denied. Otherwise, if an allow rule matched, allowed (later allow rules
// are not evaluated; deny rules still are). Otherwise denied: the default.
// [SetPolicy.Decide] returns the [Decision] for audits and tests;
// [SetPolicy.Check] denies with an error wrapping [authx.ErrForbidden],
// so the client gets authx's generic 403, while the reason ([Rule.Because])
// and the rule go only to the error's text, for the logger.
//
// # Construction mistakes
//
// A bad pattern, a nil condition, an invalid claim path or operand, or an
// invalid nested policy (Scopes("bad scope")) is caught when the set is
// built and reported by [SetPolicy.Validate], which authx calls when a
// guard is built: [authx.Auth.Require] panics with it at start-up
// ([authx.Auth.TryRequire] returns it). Nothing panics at request time.
//
// Every value prints as written, as authx policies do:
//
//	rules.Set(rules.Allow("GET /docs/{id}", Scopes("docs:read")), rules.Deny("DELETE /docs/{id}").Because("delete disabled"))
package rules
