package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/nhsprocure/portal/internal/config"
)

// TestREADMEDocumentsEveryVariable keeps the README's configuration table
// the one generated from the variables the code reads (`portal config`).
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), config.Markdown()) {
		t.Fatal("README.md's configuration table is out of date: paste the output of `go run ./cmd/portal config`")
	}
}
