// Package interop proves authx against real implementations of the other
// side of its wire formats. It has tests only, in a module of its own so
// that their dependencies never reach users of authx:
//
//   - go-oidc (github.com/coreos/go-oidc/v3) verifies tokens minted by
//     authx, through nothing but the discovery document and JWKS that
//     [github.com/authx-go/authx.Auth.DiscoveryHandler] and
//     [github.com/authx-go/authx.Auth.JWKSHandler] publish, across a key
//     rotation.
//   - Package jwks and [github.com/authx-go/authx.WithKeySet] verify the
//     access tokens of a real OpenID Provider — zitadel/oidc's op package
//     (github.com/zitadel/oidc/v3) over its example storage, driven through
//     the authorization code flow and the client credentials grant — found
//     through its discovery document and JWKS, across a rotation of its
//     signing key.
//
// Every peer runs in-process on loopback (httptest); no test reaches the
// network.
package interop
