module github.com/authx-go/authx

go 1.26.8

require github.com/golang-jwt/jwt/v5 v5.3.1
