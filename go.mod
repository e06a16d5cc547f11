module github.com/authx-go/authx

go 1.26.0

require github.com/golang-jwt/jwt/v5 v5.3.1

require github.com/google/go-cmp v0.7.0

require github.com/coder/websocket v1.8.15

require golang.org/x/time v0.16.0
