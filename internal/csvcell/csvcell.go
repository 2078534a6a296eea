// Package csvcell keeps the portal's CSV files safe to open in a
// spreadsheet: a cell that a spreadsheet would run as a formula (CSV
// injection, OWASP) is written with a leading apostrophe, as Excel itself
// does, and read back without it.
package csvcell

import "strings"

// formulaStart lists the characters that make a spreadsheet treat a cell
// as a formula.
const formulaStart = "=+-@\t\r"

// Escape starts a cell a spreadsheet would run as a formula with an
// apostrophe.
func Escape(s string) string {
	if s != "" && strings.ContainsRune(formulaStart, rune(s[0])) {
		return "'" + s
	}
	return s
}

// Unescape undoes Escape, for a file the portal wrote being read back.
func Unescape(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune(formulaStart, rune(s[1])) {
		return s[1:]
	}
	return s
}

// EscapeAll escapes every cell of a row in place and returns it.
func EscapeAll(row []string) []string {
	for i, v := range row {
		row[i] = Escape(v)
	}
	return row
}
