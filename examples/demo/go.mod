module github.com/authx-go/authx/examples/demo

go 1.26.0

require github.com/authx-go/authx v0.0.0

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace github.com/authx-go/authx => ../..
