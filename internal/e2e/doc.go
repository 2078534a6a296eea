// Package e2e holds the portal's end-to-end tests: a real Chromium, driven
// with chromedp, signs in through the development OpenID Provider and uses
// the portal's pages the way a person would, on every database the tests can
// reach (see apptest.Each).
//
// The tests need Chromium (/usr/bin/chromium, or the path in
// PORTAL_CHROMIUM). Without it they are skipped, except in CI (the CI
// variable is set), where a missing browser is a failure. Screenshots of the
// pages visited are written to testdata/artifacts/, which git ignores.
package e2e
