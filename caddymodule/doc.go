// Package caddymodule is the Caddy glue of Gatehouse.
package caddymodule

import (
	_ "github.com/caddyserver/caddy/v2"
	_ "github.com/chromedp/chromedp"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/pquerna/otp"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/oauth2"
)
