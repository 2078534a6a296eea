// Package portal holds the files the binary carries with it: HTML templates,
// static assets (including the NHS.UK frontend copied in by `make assets`)
// and the casbin role rules. Embedding them means one binary runs anywhere.
package portal

import (
	"embed"
	"io/fs"
)

//go:embed views
var views embed.FS

//go:embed static
var static embed.FS

//go:embed policies
var policies embed.FS

// Views returns the template files, rooted at views/.
func Views() fs.FS { return sub(views, "views") }

// Static returns the static assets, rooted at static/.
func Static() fs.FS { return sub(static, "static") }

// PolicyModel returns policies/model.conf.
func PolicyModel() string { return mustRead(policies, "policies/model.conf") }

// PolicyRules returns policies/policy.csv.
func PolicyRules() string { return mustRead(policies, "policies/policy.csv") }

func sub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return s
}

func mustRead(f fs.FS, name string) string {
	b, err := fs.ReadFile(f, name)
	if err != nil {
		panic(err) // the file is embedded at build time
	}
	return string(b)
}
