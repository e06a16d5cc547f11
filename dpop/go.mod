module github.com/authx-go/authx/dpop

go 1.26.0

replace github.com/authx-go/authx => ..

require (
	github.com/authx-go/authx v0.0.0
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/google/go-cmp v0.7.0
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/time v0.16.0 // indirect
)
