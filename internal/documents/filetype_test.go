package documents

import (
	"archive/zip"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// Realistic Office and OpenDocument files, with parts in the order and
// form the real programs write them. Only the first few parts matter to
// detection; the rest make the files the usual size.

const ztContentTypesDocx = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="png" ContentType="image/png"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/webSettings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.webSettings+xml"/><Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/><Override PartName="/word/endnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml"/><Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/><Override PartName="/word/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`

const ztRootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>`

const ztCore = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>Invitation to tender</dc:title><dc:creator>Procurement Team</dc:creator><cp:lastModifiedBy>Procurement Team</cp:lastModifiedBy><cp:revision>4</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">2025-01-06T09:12:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2025-01-09T16:40:00Z</dcterms:modified></cp:coreProperties>`

func ztWordXML(paragraphs int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:wpc="http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" mc:Ignorable="w14 w15 wp14"><w:body>`)
	text := string(ztText(40000))
	for i := range paragraphs {
		from := (i * 397) % (len(text) - 400)
		b.WriteString(`<w:p w14:paraId="1A2B3C4D" w:rsidR="00A1B2C3"><w:pPr><w:pStyle w:val="BodyText"/></w:pPr><w:r><w:t xml:space="preserve">`)
		b.WriteString(text[from : from+300])
		b.WriteString(`</w:t></w:r></w:p>`)
	}
	b.WriteString(`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440"/></w:sectPr></w:body></w:document>`)
	return []byte(b.String())
}

func ztParts(kind string) map[string][]byte {
	main := "word/document.xml"
	if kind == "xl" {
		main = "xl/workbook.xml"
	}
	return map[string][]byte{
		"[Content_Types].xml":          []byte(ztContentTypesDocx),
		"_rels/.rels":                  []byte(strings.Replace(ztRootRels, "%s", main, 1)),
		"docProps/core.xml":            []byte(ztCore),
		"docProps/app.xml":             []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Template>Normal.dotm</Template><TotalTime>42</TotalTime><Pages>3</Pages><Application>Microsoft Office Word</Application></Properties>`),
		"word/document.xml":            ztWordXML(200),
		"word/_rels/document.xml.rels": []byte(strings.Replace(ztRootRels, "%s", "styles.xml", 1)),
		"word/styles.xml":              ztText(30000),
		"word/numbering.xml":           ztText(6000),
		"word/settings.xml":            ztText(3000),
		"word/theme/theme1.xml":        ztText(7000),
		"word/fontTable.xml":           ztText(1500),
		"word/media/image1.png":        ztNoise(20000),
		"docProps/thumbnail.jpeg":      ztNoise(9000),
		"xl/workbook.xml":              []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Pricing" sheetId="1" r:id="rId1"/></sheets></workbook>`),
		"xl/_rels/workbook.xml.rels":   []byte(strings.Replace(ztRootRels, "%s", "worksheets/sheet1.xml", 1)),
		"xl/worksheets/sheet1.xml":     ztText(50000),
		"xl/theme/theme1.xml":          ztText(7000),
		"xl/styles.xml":                ztText(4000),
		"xl/sharedStrings.xml":         ztText(9000),
	}
}

// ztOffice writes the named parts in order: Office writes deflated parts
// with their sizes in the local headers (general purpose flags 0x0006).
func ztOffice(t testing.TB, descriptors bool, names ...string) []byte {
	t.Helper()
	kind := "word"
	for _, n := range names {
		if strings.HasPrefix(n, "xl/") {
			kind = "xl"
		}
	}
	parts := ztParts(kind)
	var files []ztFile
	for _, n := range names {
		data, ok := parts[n]
		if !ok {
			t.Fatalf("no part %s", n)
		}
		files = append(files, ztFile{name: n, data: data, method: zip.Deflate, sized: !descriptors, flags: 0x0006})
	}
	return ztGoZip(t, "", files...)
}

// Word 2016-365 order.
func ztDocxWord(t testing.TB) []byte {
	return ztOffice(t, false, "[Content_Types].xml", "_rels/.rels", "word/_rels/document.xml.rels",
		"word/document.xml", "word/theme/theme1.xml", "word/settings.xml", "word/numbering.xml",
		"word/styles.xml", "word/fontTable.xml", "word/media/image1.png", "docProps/core.xml", "docProps/app.xml")
}

// Word for Mac starts with word/numbering.xml.
func ztDocxMac(t testing.TB) []byte {
	return ztOffice(t, false, "word/numbering.xml", "word/settings.xml", "word/fontTable.xml",
		"word/styles.xml", "word/document.xml", "word/_rels/document.xml.rels", "_rels/.rels",
		"word/theme/theme1.xml", "[Content_Types].xml", "docProps/app.xml", "docProps/core.xml")
}

// A document saved with a preview picture early in the package: the first
// word/ part starts after mimetype's 4 KiB, so mimetype alone sees a plain
// ZIP.
func ztDocxThumbnail(t testing.TB) []byte {
	return ztOffice(t, false, "[Content_Types].xml", "_rels/.rels", "docProps/thumbnail.jpeg",
		"word/_rels/document.xml.rels", "word/document.xml", "word/styles.xml", "docProps/core.xml", "docProps/app.xml")
}

// LibreOffice writes _rels/.rels first and [Content_Types].xml last, with
// data descriptors.
func ztDocxLibreOffice(t testing.TB) []byte {
	return ztOffice(t, true, "_rels/.rels", "docProps/core.xml", "docProps/app.xml",
		"word/_rels/document.xml.rels", "word/document.xml", "word/styles.xml", "word/numbering.xml",
		"word/fontTable.xml", "word/settings.xml", "[Content_Types].xml")
}

// Excel 2016-365 order.
func ztXlsxExcel(t testing.TB) []byte {
	return ztOffice(t, false, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
		"xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/theme/theme1.xml",
		"xl/styles.xml", "xl/sharedStrings.xml", "docProps/core.xml", "docProps/app.xml")
}

// ztODF writes an OpenDocument file as LibreOffice does: "mimetype" first,
// stored, no extra field; then the deflated parts.
func ztODF(t testing.TB, mediaType string) []byte {
	t.Helper()
	return ztGoZip(t, "",
		ztFile{name: "mimetype", data: []byte(mediaType), method: zip.Store, sized: true},
		ztFile{name: "Configurations2/", method: zip.Store},
		ztFile{name: "manifest.rdf", data: ztText(900), method: zip.Deflate},
		ztFile{name: "meta.xml", data: ztText(1000), method: zip.Deflate},
		ztFile{name: "settings.xml", data: ztText(10000), method: zip.Deflate},
		ztFile{name: "content.xml", data: ztText(40000), method: zip.Deflate},
		ztFile{name: "Thumbnails/thumbnail.png", data: ztNoise(8000), method: zip.Deflate},
		ztFile{name: "styles.xml", data: ztText(20000), method: zip.Deflate},
		ztFile{name: "META-INF/manifest.xml", data: ztText(1200), method: zip.Deflate})
}

func ztPDF() []byte {
	return []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF\n")
}

func ztImage(t testing.TB, format string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ztHead is what the pipeline passes to Check: the first SniffLen bytes.
func ztHead(b []byte) []byte { return b[:min(len(b), SniffLen)] }

func TestAllowedList(t *testing.T) {
	if got, want := AllowedList(), "PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, ZIP, PNG or JPEG"; got != want {
		t.Fatalf("AllowedList() = %q, want %q", got, want)
	}
}

func TestAllowedTable(t *testing.T) {
	seen := map[string]bool{}
	for _, ft := range Allowed {
		if !strings.HasPrefix(ft.Ext, ".") || ft.Ext != strings.ToLower(ft.Ext) || seen[ft.Ext] {
			t.Errorf("bad or repeated extension %q", ft.Ext)
		}
		seen[ft.Ext] = true
		if ft.Label == "" || len(ft.MIME) == 0 {
			t.Errorf("%s: no label or MIME types", ft.Ext)
		}
		for _, m := range ft.MIME {
			if strings.ContainsAny(m, "; ") || m != strings.ToLower(m) {
				t.Errorf("%s: MIME %q is not a bare base type", ft.Ext, m)
			}
			if mimetype.Lookup(m) == nil {
				t.Errorf("%s: mimetype does not know %q", ft.Ext, m)
			}
		}
		wantZip := map[string]bool{".docx": true, ".xlsx": true, ".odt": true, ".ods": true, ".zip": true}[ft.Ext]
		if ft.Zip != wantZip {
			t.Errorf("%s: Zip = %v", ft.Ext, ft.Zip)
		}
	}
}

// SniffLen must cover what mimetype reads (its default limit, 4 KiB).
func TestSniffLenCoversMimetype(t *testing.T) {
	big := append([]byte("%PDF-1.4\n"), ztNoise(100000)...)
	if SniffLen < 4096 {
		t.Fatalf("SniffLen %d is less than mimetype's 4096", SniffLen)
	}
	// Detection is the same on the head as on the whole file.
	for _, f := range [][]byte{big, ztDocxWord(t), ztXlsxExcel(t), ztODF(t, mimeODT)} {
		if a, b := detectType(ztHead(f)), detectType(f); a != b {
			t.Errorf("head detected as %s, whole file as %s", a, b)
		}
	}
}

func TestCheckAccepts(t *testing.T) {
	csvBOM := append([]byte("\xEF\xBB\xBF"), []byte("Supplier,Lot,Price (£)\nAcme Ltd,1,12500\nBéta Services,2,9800\n")...)
	plainZip := ztGoZip(t, "", ztFile{name: "Lot 1/response.pdf", data: ztPDF(), method: zip.Deflate},
		ztFile{name: "Lot 1/pricing.xlsx", data: ztXlsxExcel(t), method: zip.Store, sized: true})
	longText := bytes.Repeat([]byte("Évaluation – critères pondérés £ "), SniffLen/10)
	cases := []struct {
		name string
		data []byte
		ext  string
	}{
		{"tender.pdf", ztPDF(), ".pdf"},
		{"TENDER.PDF", ztPDF(), ".pdf"},
		{"Invitation to tender.docx", ztDocxWord(t), ".docx"},
		{"made on a mac.docx", ztDocxMac(t), ".docx"},
		{"with thumbnail.docx", ztDocxThumbnail(t), ".docx"},
		{"libreoffice.docx", ztDocxLibreOffice(t), ".docx"},
		{"Pricing schedule.xlsx", ztXlsxExcel(t), ".xlsx"},
		{"Réponse.odt", ztODF(t, mimeODT), ".odt"},
		{"Pricing.ods", ztODF(t, mimeODS), ".ods"},
		{"prices.csv", []byte("Supplier,Lot,Price\nAcme Ltd,1,12500\nBeta Services,2,9800\n"), ".csv"},
		{"prices with bom.csv", csvBOM, ".csv"},
		{"semicolons.csv", []byte("Supplier;Lot;Price\nAcme Ltd;1;12500\n"), ".csv"},
		{"one column.csv", []byte("Supplier\nAcme Ltd\n"), ".csv"},
		{"notes.txt", []byte("Clarification questions\n\n1. Is TUPE expected to apply?\n"), ".txt"},
		{"commas.txt", []byte("a,b,c\n1,2,3\n4,5,6\n"), ".txt"},
		{"long.txt", longText, ".txt"}, // the head ends inside a character
		{"bid.zip", plainZip, ".zip"},
		{"empty archive.zip", ztGoZip(t, ""), ".zip"},
		{"zipped word file.zip", ztDocxWord(t), ".zip"},
		{"scan.png", ztImage(t, "png"), ".png"},
		{"photo.jpg", ztImage(t, "jpeg"), ".jpg"},
		{"photo.JPEG", ztImage(t, "jpeg"), ".jpeg"},
		{"junk before header.pdf", append([]byte("\r\n\x00\x00junk from a scanner\n"), ztPDF()...), ".pdf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ft, err := Check(c.name, ztHead(c.data))
			if err != nil {
				t.Fatalf("refused: %v (detected %s)", err, detectType(ztHead(c.data)))
			}
			if ft.Ext != c.ext {
				t.Fatalf("type %s, want %s", ft.Ext, c.ext)
			}
			if ft.Zip {
				if err := ztInspect(t, c.data, DefaultZipLimits); err != nil {
					t.Fatalf("InspectZip refused it: %v", err)
				}
			}
		})
	}
}

// Office files from the usual programs are recognised by mimetype itself
// within its 4 KiB, so the fallback is only for the unusual orders.
func TestOfficeFixturesDetectedByMimetype(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"word":        {ztDocxWord(t), mimeDOCX},
		"libreoffice": {ztDocxLibreOffice(t), mimeDOCX},
		"excel":       {ztXlsxExcel(t), mimeXLSX},
		"odt":         {ztODF(t, mimeODT), mimeODT},
		"ods":         {ztODF(t, mimeODS), mimeODS},
		"mac":         {ztDocxMac(t), mimeDOCX},
		"thumbnail":   {ztDocxThumbnail(t), mimeZIP},
	} {
		if got := mimetype.Detect(c.data).String(); got != c.want {
			t.Errorf("%s: mimetype says %s, want %s", name, got, c.want)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00"), make([]byte, 200)...)
	copy(exe[0x40:], "This program cannot be run in DOS mode.")
	elf := append([]byte("\x7FELF\x02\x01\x01\x00"), make([]byte, 100)...)
	elf[16] = 2 // executable
	html := []byte("<!DOCTYPE html>\n<html><head><title>Bid</title><script>fetch('/admin')</script></head><body></body></html>")
	svg := []byte(`<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><rect width="10" height="10"/></svg>`)
	plainZip := ztGoZip(t, "", ztFile{name: "notes.txt", data: ztText(2000), method: zip.Deflate},
		ztFile{name: "docs/readme.txt", data: ztText(200), method: zip.Deflate})
	jar := ztGoZip(t, "", ztFile{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\nMain-Class: Evil\n"), method: zip.Deflate},
		ztFile{name: "Evil.class", data: []byte("\xCA\xFE\xBA\xBE"), method: zip.Deflate})
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"report.pdf", nil, "The file ‘report.pdf’ is empty"},
		{"report.pdf", exe, "The file ‘report.pdf’ contains a Windows program"},
		{"report.pdf", ztDocxWord(t), "The file ‘report.pdf’ is not a real PDF file: its content is a Word document (DOCX)"},
		{"notes.txt", elf, "a Linux program"},
		{"notes.txt", html, "a web page (HTML)"},
		{"notes.txt", []byte("<?xml version=\"1.0\"?><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">alert(1)</x:script>"), "XML"},
		{"page.csv", []byte("  <html><body>hi</body></html>"), "a web page (HTML)"},
		{"logo.png", svg, "an SVG image"},
		{"logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "an SVG image"},
		{"run.csv", []byte("#!/bin/sh\nrm -rf /\n"), "a script"},
		{"run.txt", []byte("#!/usr/bin/zsh\necho hi\n"), "a script"},
		{"run.txt", []byte("#!/usr/bin/env python3\nprint(1)\n"), "a script"},
		{"notes.txt", []byte("Dear team,\nplease see <script src=//evil.example/x.js></script> below\n"), "web page code (<script>)"},
		{"tender.docx", plainZip, "is not a real DOCX file: its content is a ZIP archive"},
		{"pricing.xlsx", ztDocxWord(t), "is not a real XLSX file: its content is a Word document"},
		{"text.odt", ztODF(t, mimeODS), "is not a real ODT file"},
		{"photo.jpg", ztImage(t, "png"), "is not a real JPEG file: its content is a PNG image"},
		{"scan.png", ztImage(t, "jpeg"), "is not a real PNG file: its content is a JPEG image"},
		{"report.pdf", ztNoise(5000), "not a document format we recognise"},
		{"tools.zip", jar, "a Java program"},
		{"prices.csv", []byte("Supplier,Price (\xA3)\nAcme,100\n"), "CSV UTF-8 (Comma delimited)"},
		{"notes.txt", []byte("caf\xE9 menu\n"), "UTF-8"},
		{"utf16.txt", []byte("\xFF\xFEh\x00e\x00l\x00l\x00o\x00"), "UTF-8"},
		{"nul.txt", []byte("hello\x00world"), "is not a real TXT file"},
		{"program.exe", exe, "Files ending ‘.exe’ cannot be uploaded. Please upload PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, ZIP, PNG or JPEG files only."},
		{"page.html", html, "Files ending ‘.html’"},
		{"logo.svg", svg, "Files ending ‘.svg’"},
		{"old.doc", ztPDF(), "Files ending ‘.doc’ cannot be uploaded. Please upload PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, ZIP, PNG or JPEG files only. In Word, use Save As"},
		{"old.xls", ztPDF(), "In Excel, use Save As"},
		{"page.pdf", append([]byte("<html><body>"), ztPDF()...), "a web page (HTML)"},
		{"image.pdf", append([]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">`), ztPDF()...), "an SVG image"},
		{"hidden.pdf", append([]byte("junk <ScRiPt>alert(1)</script>\n"), ztPDF()...), "a web page (HTML)"},
		{"late header.pdf", append(make([]byte, 1100), ztPDF()...), "is not a real PDF file"},
		{"archive.tar.gz", ztPDF(), "Files ending ‘.gz’"},
		{"README", ztPDF(), "has no type ending"},
	}
	for _, c := range cases {
		t.Run(c.name+" "+c.want, func(t *testing.T) {
			ft, err := Check(c.name, ztHead(c.data))
			if err == nil {
				t.Fatalf("accepted as %s (detected %s)", ft.Ext, detectType(c.data))
			}
			var re *RejectError
			if !errors.As(err, &re) {
				t.Fatalf("not a refusal: %v", err)
			}
			if !strings.Contains(re.Message, c.want) {
				t.Fatalf("message %q does not contain %q", re.Message, c.want)
			}
			if !strings.Contains(re.Message, "Please") {
				t.Errorf("message %q does not say what to do", re.Message)
			}
		})
	}
}

func TestCheckLongNameInMessage(t *testing.T) {
	for _, name := range []string{strings.Repeat("a", 150) + "\r\n.pdf", "x." + strings.Repeat("b", 150) + "\r\n\u202E"} {
		_, err := Check(name, []byte("MZ"))
		if err == nil || strings.ContainsAny(err.Error(), "\r\n\u202E") || strings.Count(err.Error(), "a")+strings.Count(err.Error(), "b") > 100 {
			t.Fatalf("message %q", err)
		}
	}
}

func TestTrimPartialRune(t *testing.T) {
	for _, s := range []string{"abc", "ab€", "é"} {
		for cut := 0; cut <= len(s); cut++ {
			got := trimPartialRune([]byte(s[:cut]))
			if !utf8.Valid(got) || !strings.HasPrefix(s, string(got)) || cut-len(got) >= utf8.UTFMax {
				t.Errorf("trimPartialRune(%q) = %q", s[:cut], got)
			}
		}
	}
	// Invalid bytes are not trimmed away as if partial.
	if got := trimPartialRune([]byte("ab\xFF")); string(got) != "ab\xFF" {
		t.Errorf("trimPartialRune dropped an invalid byte: %q", got)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("tender.pdf", ztPDF())
	f.Add("a.docx", ztHead(ztDocxWord(f)))
	f.Add("a.docx", ztHead(ztDocxThumbnail(f)))
	f.Add("a.odt", ztHead(ztODF(f, mimeODT)))
	f.Add("a.zip", ztHead(ztGoZip(f, "", ztFile{name: "x", data: []byte("x"), method: zip.Deflate})))
	f.Add("a.csv", []byte("\xEF\xBB\xBFa,b\n1,2\n"))
	f.Add("a.txt", []byte("#!/bin/sh\n"))
	f.Add("a.png", ztImage(f, "png"))
	f.Add("a.jpg", []byte("\xFF\xD8\xFF"))
	f.Add("a.txt", []byte("<svg>"))
	f.Add("PK\x03\x04.docx", []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		ft, err := Check(name, head)
		if err != nil {
			var re *RejectError
			if !errors.As(err, &re) || re.Message == "" {
				t.Fatalf("not a refusal: %v", err)
			}
			return
		}
		if len(head) == 0 {
			t.Fatal("accepted empty content")
		}
		if !ft.accepts(detectType(head)) {
			t.Fatalf("accepted %s as %s", detectType(head), ft.Ext)
		}
		if _, bad := runnableContent(detectType(head), head); bad {
			t.Fatal("accepted runnable content")
		}
		if ft.Text && !utf8.Valid(trimPartialRune(bytes.TrimPrefix(head, utf8BOM))) {
			t.Fatal("accepted text that is not UTF-8")
		}
	})
}
