module github.com/authx-go/authx/examples/resource-server

go 1.26.0

require (
	github.com/authx-go/authx v0.0.0
	github.com/authx-go/authx/jwks v0.0.0
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace (
	github.com/authx-go/authx => ../..
	github.com/authx-go/authx/jwks => ../../jwks
)
