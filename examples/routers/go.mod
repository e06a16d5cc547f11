module github.com/authx-go/authx/examples/routers

go 1.26.0

replace github.com/authx-go/authx => ../..

require (
	github.com/authx-go/authx v0.0.0
	github.com/go-chi/chi/v5 v5.5.0
	github.com/gorilla/mux v1.8.1
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/time v0.16.0 // indirect
)
