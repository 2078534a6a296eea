package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/nhsprocure/portal/internal/csvcell"
)

// readCSV reads delimited text, with or without a UTF-8 byte order mark.
func readCSV(data []byte, o Options) (*Table, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &Error{Reason: Binary}
	}
	text := string(data)
	if !utf8.ValidString(text) {
		if !o.Windows1252 {
			return nil, &Error{Reason: NotUTF8}
		}
		text = decodeWindows1252(data)
	}
	cr := csv.NewReader(strings.NewReader(text))
	if o.SniffDelimiter {
		cr.Comma = sniffDelimiter(text)
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = o.LazyQuotes
	cr.ReuseRecord = true
	b := newBuilder(CSV, o)
	number, endLine := 0, 0 // endLine: the file line the last record ended on
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return b.t, nil
		}
		if err != nil {
			e := &Error{Reason: BadQuote, Row: number + 1}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				e.Line, e.StartLine = pe.Line, pe.StartLine
			}
			return nil, e
		}
		// The reader skips blank lines, which a spreadsheet shows as empty
		// rows; count them so row numbers match what people see.
		start, _ := cr.FieldPos(0)
		for ; endLine < start-1; endLine++ {
			number++
			if err := b.add(Row{Number: number, Line: endLine + 1}); err != nil {
				return nil, err
			}
		}
		last, _ := cr.FieldPos(len(rec) - 1)
		endLine = last + strings.Count(rec[len(rec)-1], "\n")
		if o.Unescape {
			for i, cell := range rec {
				rec[i] = csvcell.Unescape(cell)
			}
		}
		number++
		if err := b.add(Row{Number: number, Line: start, Cells: rec}); err != nil {
			return nil, err
		}
	}
}

// sniffDelimiter picks the separator the first line uses most.
func sniffDelimiter(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, bestN := ',', strings.Count(line, ",")
	for _, d := range []rune{';', '\t'} {
		if n := strings.Count(line, string(d)); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// windows1252 maps bytes 0x80 to 0x9F, where Windows-1252 differs from
// Latin-1 (curly quotes, the euro sign, dashes).
var windows1252 = [32]rune{
	'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008d', 'Ž', '\u008f',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009d', 'ž', 'Ÿ',
}

func decodeWindows1252(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for _, c := range b {
		switch {
		case c >= 0x80 && c < 0xA0:
			sb.WriteRune(windows1252[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}
