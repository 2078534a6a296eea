package documents

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"
	"strings"
)

// ZipLimits bounds what a ZIP container (a .zip, and the Office and
// OpenDocument formats, which are ZIPs) may hold. Zero or negative fields
// mean the DefaultZipLimits value.
type ZipLimits struct {
	MaxEntries      int   // items (files and folders), default 10,000
	MaxUncompressed int64 // total bytes once every item is unpacked, default 2 GiB
	// MaxRatio bounds one item's unpacked size over its packed size, default
	// 200. It only applies once the item has unpacked past 1 MiB, where
	// small, very regular files (an empty sheet, a blank page) would
	// otherwise trip it; real documents stay far below it, while zip bombs
	// reach 1,000 (the deflate maximum).
	MaxRatio int64
}

// DefaultZipLimits are generous for procurement documents (a large bid is
// hundreds of files and a few hundred MB) and stop decompression bombs long
// before they hurt the server or an evaluator's computer.
var DefaultZipLimits = ZipLimits{
	MaxEntries:      10_000,
	MaxUncompressed: 2 << 30,
	MaxRatio:        200,
}

// zipRatioFloor is the unpacked size of one item below which MaxRatio is
// not applied.
const zipRatioFloor = 1 << 20

// Record signatures and flags from PKWARE's APPNOTE.TXT.
const (
	zipLocalSig      = 0x04034b50
	zipCentralSig    = 0x02014b50
	zipEndSig        = 0x06054b50
	zip64EndSig      = 0x06064b50
	zip64LocatorSig  = 0x07064b50
	zipDescriptorSig = 0x08074b50

	zipFlagEncrypted  = 1 << 0
	zipFlagDescriptor = 1 << 3 // sizes and CRC follow the data
	zipFlagStrong     = 1 << 6 // strong encryption
	zipFlagMasked     = 1 << 13

	zipMethodStore   = 0
	zipMethodDeflate = 8
	zipMethodAES     = 99 // WinZip AES encryption

	zipMax16 = 0xFFFF
	zipMax32 = 0xFFFFFFFF
)

// InspectZip reads a ZIP archive once, front to back, unpacking every item
// and counting bytes, and refuses (with a *RejectError) archives that break
// lim, have encrypted items, use compression other than store and deflate,
// or are malformed. Items that are themselves ZIPs are counted as data and
// not opened: the limits bound this archive, not what a person might
// unpack later.
//
// It works on a one-pass io.Reader, such as the upload stream teed through
// an io.Pipe, because the stored copy is encrypted and the plain file is
// never written anywhere to seek in. So it cannot use archive/zip (which
// starts from the central directory at the end). It parses the local
// headers in order, then checks that the central directory, which is what
// unzip tools actually follow, describes exactly the items it unpacked: the
// same offsets, sizes and checksums, none twice. Without that check an
// archive could show a small, harmless stream of items to a sequential
// reader while its directory points many times into the same data (the
// "overlapping files" zip bomb), or lists items the reader never saw.
//
// It always reads r to EOF, even after deciding to refuse, so a writer
// teeing into it never blocks. A read error from r (the upload itself
// failing) is returned as is, wrapped, and is not a *RejectError. The
// messages start "The file …", without its name, which the caller knows.
func InspectZip(r io.Reader, lim ZipLimits) (err error) {
	src := &zipSource{r: r}
	s := &zipScan{
		br:      bufio.NewReaderSize(src, 64<<10),
		lim:     lim.orDefaults(),
		entries: make(map[int64]*zipItem),
		buf:     make([]byte, 32<<10),
	}
	defer func() {
		// A bug must not leave the teeing writer blocked or take the
		// server down with a panic on a hostile upload.
		if p := recover(); p != nil {
			err = fmt.Errorf("documents: InspectZip failed: %v", p)
		}
		_, _ = io.Copy(io.Discard, s.br)
		if src.err != nil {
			err = fmt.Errorf("documents: reading the upload while inspecting it: %w", src.err)
		}
	}()
	return s.run()
}

func (l ZipLimits) orDefaults() ZipLimits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultZipLimits.MaxEntries
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = DefaultZipLimits.MaxUncompressed
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultZipLimits.MaxRatio
	}
	return l
}

// The refusals. Each call makes a new value, so a caller may change the
// message (to add the file name) without affecting anyone else.

func zipDamaged() error {
	return &RejectError{Message: "The file is incomplete, damaged or not a valid ZIP file, so it cannot be checked. Please check that it opens on your computer, then save or zip it again and upload the new copy."}
}

func zipEncrypted() error {
	return &RejectError{Message: "The file is password-protected (encrypted), so it cannot be checked. Please remove the password and upload it again."}
}

func zipUnsupported() error {
	return &RejectError{Message: "The file uses a kind of ZIP compression that cannot be checked, or is one part of a split archive. Please zip it again as one file with standard compression (on Windows: right-click, Send to, Compressed (zipped) folder) and upload the new copy."}
}

func zipUnsafe() error {
	return &RejectError{Message: "The file contains items with unsafe names (such as ‘../’) or links to other files, which could overwrite files when unzipped. Please zip the documents themselves again and upload the new copy."}
}

func (s *zipScan) tooManyEntries() error {
	return &RejectError{Message: "The file contains more than " + zipCount(int64(s.lim.MaxEntries)) + " items, which is more than we accept. Please split it into several smaller ZIP files."}
}

func (s *zipScan) tooLarge() error {
	return &RejectError{Message: "The file expands to more than " + zipSize(s.lim.MaxUncompressed) + " when opened, which is not allowed. Please split it into smaller files, or take out large items, and upload again."}
}

func (s *zipScan) tooCompressed() error {
	return &RejectError{Message: "The file contains an item that expands to more than " + strconv.FormatInt(s.lim.MaxRatio, 10) + " times its packed size, as harmful ‘zip bombs’ do, so it cannot be accepted. If the item is genuine, please upload it unzipped or in another format."}
}

// zipCount writes n with thousands separators: 10000 is "10,000".
func zipCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// zipSize writes a byte count the way the limit was most likely set.
func zipSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return zipCount(n>>30) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return zipCount(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return zipCount(n>>10) + " KiB"
	}
	return zipCount(n) + " bytes"
}

// zipUnsigned turns a byte count or offset of the scan, which only ever
// grows from zero, into the unsigned form the ZIP records use. A negative
// value would be a bug in the scan, and converting it would wrap round to a
// huge number that a hostile record could be made to match; so it panics
// instead, which InspectZip reports as an error.
func zipUnsigned(n int64) uint64 {
	if n < 0 {
		panic(fmt.Sprintf("negative ZIP count %d", n))
	}
	return uint64(n)
}

// zipSource remembers the first real read error of the upload, so that a
// broken connection is reported as such and not as a damaged archive.
type zipSource struct {
	r   io.Reader
	err error
}

func (z *zipSource) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF && z.err == nil {
		z.err = err
	}
	return n, err
}

// zipItem is what the local header and data of one item turned out to be,
// keyed by the offset of its local header, for checking the directory.
type zipItem struct {
	method       uint16
	crc          uint32
	csize, usize uint64
	listed       bool // a central directory record refers to it
}

type zipScan struct {
	br      *bufio.Reader
	lim     ZipLimits
	pos     int64 // bytes of the archive consumed so far
	count   int   // local headers seen
	total   int64 // bytes unpacked so far, all items
	entries map[int64]*zipItem
	buf     []byte        // data copying
	hdr     []byte        // variable-length header fields
	fr      io.ReadCloser // flate reader, reused across items
}

func (s *zipScan) full(b []byte) error {
	n, err := io.ReadFull(s.br, b)
	s.pos += int64(n)
	if err != nil {
		return zipDamaged()
	}
	return nil
}

func (s *zipScan) skip(n int64) error {
	for n > 0 {
		d, err := s.br.Discard(int(min(n, 1<<30)))
		s.pos += int64(d)
		n -= int64(d)
		if err != nil {
			return zipDamaged()
		}
	}
	return nil
}

// field reads n bytes of a variable-length header field. The result is
// valid until the next call.
func (s *zipScan) field(n int) ([]byte, error) {
	if cap(s.hdr) < n {
		s.hdr = make([]byte, n, max(n, 1024))
	}
	b := s.hdr[:n]
	return b, s.full(b)
}

func (s *zipScan) signature() (uint32, error) {
	var b [4]byte
	if err := s.full(b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func (s *zipScan) run() error {
	sig, err := s.signature()
	if err != nil {
		return err
	}
	// The archive must start with an item (or, empty, with its end
	// record): anything else in front, such as a self-extractor's program,
	// is refused.
	for sig == zipLocalSig {
		if err := s.item(); err != nil {
			return err
		}
		if sig, err = s.signature(); err != nil {
			return err
		}
	}
	return s.directory(sig)
}

// item reads one local file header (its signature already read) and the
// item's data, unpacking it.
func (s *zipScan) item() error {
	offset := s.pos - 4
	s.count++
	if s.count > s.lim.MaxEntries {
		return s.tooManyEntries()
	}
	var h [26]byte
	if err := s.full(h[:]); err != nil {
		return err
	}
	flags := binary.LittleEndian.Uint16(h[2:])
	method := binary.LittleEndian.Uint16(h[4:])
	crc := binary.LittleEndian.Uint32(h[10:])
	csize32 := binary.LittleEndian.Uint32(h[14:])
	usize32 := binary.LittleEndian.Uint32(h[18:])
	nameLen := int(binary.LittleEndian.Uint16(h[22:]))
	extraLen := int(binary.LittleEndian.Uint16(h[24:]))

	name, err := s.field(nameLen)
	if err != nil {
		return err
	}
	if zipUnsafeName(name) {
		return zipUnsafe()
	}
	extra, err := s.field(extraLen)
	if err != nil {
		return err
	}

	if flags&(zipFlagEncrypted|zipFlagStrong|zipFlagMasked) != 0 || method == zipMethodAES {
		return zipEncrypted()
	}
	if method != zipMethodStore && method != zipMethodDeflate {
		return zipUnsupported()
	}

	csize, usize := uint64(csize32), uint64(usize32)
	zip64 := false
	if f, ok := zipExtraField(extra, 0x0001); ok {
		zip64 = true
		// APPNOTE 4.5.3: in a local header the ZIP64 field holds both
		// sizes, uncompressed first. Some writers put only the one that
		// overflowed; accept that too.
		switch {
		case len(f) >= 16:
			if usize32 == zipMax32 {
				usize = binary.LittleEndian.Uint64(f)
			}
			if csize32 == zipMax32 {
				csize = binary.LittleEndian.Uint64(f[8:])
			}
		case len(f) >= 8:
			if usize32 == zipMax32 {
				usize = binary.LittleEndian.Uint64(f)
			} else if csize32 == zipMax32 {
				csize = binary.LittleEndian.Uint64(f)
			}
		}
	}
	descriptor := flags&zipFlagDescriptor != 0
	if !descriptor && (csize == zipMax32 || usize == zipMax32) {
		// 4 GiB sizes without a ZIP64 field: the header cannot be trusted.
		return zipDamaged()
	}
	if csize > math.MaxInt64 || usize > math.MaxInt64 {
		return zipDamaged()
	}

	got := &zipItem{method: method}
	switch {
	case method == zipMethodDeflate && descriptor:
		c, u, sum, err := s.inflate(-1)
		if err != nil {
			return err
		}
		if err := s.descriptor(sum, c, u, zip64, false); err != nil {
			return err
		}
		got.crc, got.csize, got.usize = sum, zipUnsigned(c), zipUnsigned(u)

	case method == zipMethodDeflate && csize == 0 && usize == 0 && crc == 0:
		// An empty file written as "deflated" without any deflate data;
		// some writers do this and unzip tools accept it.

	case method == zipMethodDeflate:
		c, u, sum, err := s.inflate(int64(csize))
		if err != nil {
			return err
		}
		if err := s.skip(int64(csize) - c); err != nil { // padding after the deflate stream
			return err
		}
		if zipUnsigned(u) != usize || sum != crc {
			return zipDamaged()
		}
		got.crc, got.csize, got.usize = crc, csize, usize

	case descriptor:
		// Stored with the size after the data: the end cannot be found
		// without guessing, so only the empty case, with its descriptor
		// right there, is accepted (some tools write folders this way).
		if err := s.descriptor(0, 0, 0, zip64, true); err != nil {
			return zipUnsupported()
		}

	default:
		if csize != usize {
			return zipDamaged()
		}
		sum, err := s.copyStored(int64(csize))
		if err != nil {
			return err
		}
		if sum != crc {
			return zipDamaged()
		}
		got.crc, got.csize, got.usize = crc, csize, usize
	}
	s.entries[offset] = got
	return nil
}

// inflate unpacks one deflate stream of at most limit packed bytes (limit
// < 0: up to the stream's own end), counting and checksumming the output,
// and stops as soon as a limit is broken. It returns the packed and
// unpacked sizes and the CRC-32.
func (s *zipScan) inflate(limit int64) (packed, unpacked int64, sum uint32, err error) {
	in := &zipItemInput{s: s, left: limit}
	if s.fr == nil {
		s.fr = flate.NewReader(in)
	} else if err := s.fr.(flate.Resetter).Reset(in, nil); err != nil {
		return 0, 0, 0, zipDamaged()
	}
	for {
		n, rerr := s.fr.Read(s.buf)
		if n > 0 {
			sum = crc32.Update(sum, crc32.IEEETable, s.buf[:n])
			unpacked += int64(n)
			s.total += int64(n)
			if s.total > s.lim.MaxUncompressed {
				return 0, 0, 0, s.tooLarge()
			}
			if unpacked > zipRatioFloor && unpacked/max(in.n, 1) > s.lim.MaxRatio {
				return 0, 0, 0, s.tooCompressed()
			}
		}
		if rerr == io.EOF {
			return in.n, unpacked, sum, nil
		}
		if rerr != nil {
			return 0, 0, 0, zipDamaged()
		}
	}
}

// zipItemInput feeds one item's packed bytes to flate. It implements
// io.ByteReader, so flate reads exactly the deflate stream and nothing of
// what follows (the descriptor or next header).
type zipItemInput struct {
	s    *zipScan
	n    int64 // bytes read
	left int64 // bytes allowed, < 0 for no limit
}

func (z *zipItemInput) ReadByte() (byte, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	b, err := z.s.br.ReadByte()
	if err != nil {
		return 0, err
	}
	z.n++
	z.s.pos++
	if z.left > 0 {
		z.left--
	}
	return b, nil
}

func (z *zipItemInput) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	if z.left > 0 && int64(len(p)) > z.left {
		p = p[:z.left]
	}
	n, err := z.s.br.Read(p)
	z.n += int64(n)
	z.s.pos += int64(n)
	if z.left > 0 {
		z.left -= int64(n)
	}
	return n, err
}

// copyStored reads n stored bytes, returning their CRC-32.
func (s *zipScan) copyStored(n int64) (uint32, error) {
	if n > s.lim.MaxUncompressed-s.total {
		return 0, s.tooLarge()
	}
	s.total += n
	var sum uint32
	for n > 0 {
		k, err := s.br.Read(s.buf[:min(n, int64(len(s.buf)))])
		s.pos += int64(k)
		n -= int64(k)
		sum = crc32.Update(sum, crc32.IEEETable, s.buf[:k])
		if err != nil && n > 0 {
			return 0, zipDamaged()
		}
	}
	return sum, nil
}

// descriptor reads the data descriptor after an item whose CRC and sizes
// are now known. Its form varies by writer: with or without its
// signature, and with 4- or 8-byte sizes (8 for ZIP64, which Go's writer
// uses without saying so in the local header). The form whose values match
// what was unpacked and which is followed by a record signature is taken;
// failing that, with strict unset, any form whose values match.
func (s *zipScan) descriptor(sum uint32, packed, unpacked int64, zip64, strict bool) error {
	b, _ := s.br.Peek(28)
	forms := [4]struct{ sig, wide bool }{{true, false}, {true, true}, {false, false}, {false, true}}
	if zip64 {
		forms = [4]struct{ sig, wide bool }{{true, true}, {true, false}, {false, true}, {false, false}}
	}
	fallback := 0
	for _, f := range forms {
		n := zipDescriptorLen(b, f.sig, f.wide, sum, zipUnsigned(packed), zipUnsigned(unpacked))
		if n == 0 {
			continue
		}
		if len(b) >= n+4 && zipRecordSig(binary.LittleEndian.Uint32(b[n:])) {
			return s.skip(int64(n))
		}
		if fallback == 0 {
			fallback = n
		}
	}
	if fallback > 0 && !strict {
		return s.skip(int64(fallback))
	}
	return zipDamaged()
}

// zipDescriptorLen returns the length of a descriptor of the given form at
// the start of b with these values, or 0 if there is none.
func zipDescriptorLen(b []byte, sig, wide bool, sum uint32, packed, unpacked uint64) int {
	i := 0
	if sig {
		if len(b) < 4 || binary.LittleEndian.Uint32(b) != zipDescriptorSig {
			return 0
		}
		i = 4
	}
	if len(b) < i+4 || binary.LittleEndian.Uint32(b[i:]) != sum {
		return 0
	}
	i += 4
	if wide {
		if len(b) < i+16 || binary.LittleEndian.Uint64(b[i:]) != packed || binary.LittleEndian.Uint64(b[i+8:]) != unpacked {
			return 0
		}
		return i + 16
	}
	if len(b) < i+8 || uint64(binary.LittleEndian.Uint32(b[i:])) != packed || uint64(binary.LittleEndian.Uint32(b[i+4:])) != unpacked {
		return 0
	}
	return i + 8
}

// zipRecordSig reports the signatures that may follow an item's data.
func zipRecordSig(sig uint32) bool {
	return sig == zipLocalSig || sig == zipCentralSig || sig == zipEndSig || sig == zip64EndSig
}

// directory reads the central directory, whose first signature (sig) has
// been read, the end records and the comment, and checks that they agree
// with the items unpacked.
func (s *zipScan) directory(sig uint32) error {
	start := s.pos - 4
	records := uint64(0)
	var err error
	for sig == zipCentralSig {
		if err := s.central(); err != nil {
			return err
		}
		records++
		if sig, err = s.signature(); err != nil {
			return err
		}
	}
	size := zipUnsigned(s.pos - 4 - start)

	zip64 := false
	if sig == zip64EndSig {
		zip64 = true
		recordAt := s.pos - 4
		var h [52]byte // size of record, then its fixed fields
		if err := s.full(h[:]); err != nil {
			return err
		}
		recordSize := binary.LittleEndian.Uint64(h[0:])
		if recordSize < 44 || recordSize > 1<<16 {
			return zipDamaged()
		}
		if err := s.skip(int64(recordSize) - 44); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(h[12:]) != 0 || binary.LittleEndian.Uint32(h[16:]) != 0 {
			return zipUnsupported() // split archive
		}
		if binary.LittleEndian.Uint64(h[20:]) != records || binary.LittleEndian.Uint64(h[28:]) != records ||
			binary.LittleEndian.Uint64(h[36:]) != size || binary.LittleEndian.Uint64(h[44:]) != zipUnsigned(start) {
			return zipDamaged()
		}
		if sig, err = s.signature(); err != nil {
			return err
		}
		if sig != zip64LocatorSig {
			return zipDamaged()
		}
		var l [16]byte
		if err := s.full(l[:]); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(l[0:]) != 0 || binary.LittleEndian.Uint32(l[12:]) > 1 {
			return zipUnsupported()
		}
		if binary.LittleEndian.Uint64(l[4:]) != zipUnsigned(recordAt) {
			return zipDamaged()
		}
		if sig, err = s.signature(); err != nil {
			return err
		}
	}

	if sig != zipEndSig {
		return zipDamaged()
	}
	var e [18]byte
	if err := s.full(e[:]); err != nil {
		return err
	}
	disk, dirDisk := binary.LittleEndian.Uint16(e[0:]), binary.LittleEndian.Uint16(e[2:])
	if (disk != 0 || dirDisk != 0) && !(zip64 && disk == zipMax16 && dirDisk == zipMax16) {
		return zipUnsupported()
	}
	// Each field must be the real value, or the ZIP64 placeholder when a
	// ZIP64 end record (already checked) holds the real one. Tools that
	// open the archive find the directory through these values, so they
	// must lead to the directory just read.
	agree := func(field, max, actual uint64) bool {
		return field == actual || (zip64 && field == max)
	}
	if !agree(uint64(binary.LittleEndian.Uint16(e[4:])), zipMax16, records&zipMax16) ||
		!agree(uint64(binary.LittleEndian.Uint16(e[6:])), zipMax16, records&zipMax16) ||
		!agree(uint64(binary.LittleEndian.Uint32(e[8:])), zipMax32, size) ||
		!agree(uint64(binary.LittleEndian.Uint32(e[12:])), zipMax32, zipUnsigned(start)) {
		return zipDamaged()
	}
	if !zip64 && (size > zipMax32 || zipUnsigned(start) > zipMax32) {
		return zipDamaged()
	}
	comment, err := s.field(int(binary.LittleEndian.Uint16(e[16:])))
	if err != nil {
		return err
	}
	if bytes.Contains(comment, []byte("PK\x05\x06")) {
		return zipDamaged()
	}
	return s.trailer()
}

// central reads one central directory record (its signature already read)
// and matches it to an unpacked item.
func (s *zipScan) central() error {
	var h [42]byte
	if err := s.full(h[:]); err != nil {
		return err
	}
	madeBy := binary.LittleEndian.Uint16(h[0:])
	flags := binary.LittleEndian.Uint16(h[4:])
	method := binary.LittleEndian.Uint16(h[6:])
	crc := binary.LittleEndian.Uint32(h[12:])
	csize := uint64(binary.LittleEndian.Uint32(h[16:]))
	usize := uint64(binary.LittleEndian.Uint32(h[20:]))
	nameLen := int(binary.LittleEndian.Uint16(h[24:]))
	extraLen := int(binary.LittleEndian.Uint16(h[26:]))
	commentLen := int64(binary.LittleEndian.Uint16(h[28:]))
	disk := uint64(binary.LittleEndian.Uint16(h[30:]))
	external := binary.LittleEndian.Uint32(h[34:])
	offset := uint64(binary.LittleEndian.Uint32(h[38:]))

	name, err := s.field(nameLen)
	if err != nil {
		return err
	}
	if zipUnsafeName(name) {
		return zipUnsafe()
	}
	// Unix (3) and macOS (19) keep the file mode in the top 16 bits.
	if host := madeBy >> 8; (host == 3 || host == 19) && (external>>16)&0xF000 == 0xA000 {
		return zipUnsafe() // symbolic link
	}
	extra, err := s.field(extraLen)
	if err != nil {
		return err
	}
	if f, ok := zipExtraField(extra, 0x0001); ok {
		// APPNOTE 4.5.3: here only the overflowed fields are present, in
		// this order.
		for _, v := range []*uint64{&usize, &csize, &offset} {
			if *v == zipMax32 {
				if len(f) < 8 {
					return zipDamaged()
				}
				*v = binary.LittleEndian.Uint64(f)
				f = f[8:]
			}
		}
		if disk == zipMax16 {
			if len(f) < 4 {
				return zipDamaged()
			}
			disk = uint64(binary.LittleEndian.Uint32(f))
		}
	}
	if err := s.skip(commentLen); err != nil {
		return err
	}
	if disk != 0 {
		return zipUnsupported()
	}
	if flags&(zipFlagEncrypted|zipFlagStrong) != 0 || method == zipMethodAES {
		return zipEncrypted()
	}
	if offset > math.MaxInt64 {
		return zipDamaged()
	}
	it := s.entries[int64(offset)]
	if it == nil || it.listed || it.method != method || it.crc != crc || it.csize != csize || it.usize != usize {
		return zipDamaged()
	}
	it.listed = true
	return nil
}

// trailer reads what follows the end record. Junk there is tolerated, but
// not a second end record: tools search for the last one from the end of
// the file, and it could lead them to a directory never checked here.
func (s *zipScan) trailer() error {
	const pattern = "PK\x05\x06"
	matched := 0
	found := false
	for {
		n, err := s.br.Read(s.buf)
		s.pos += int64(n)
		for _, c := range s.buf[:n] {
			switch {
			case c == pattern[matched]:
				matched++
				if matched == len(pattern) {
					found = true
					matched = 0
				}
			case c == pattern[0]:
				matched = 1
			default:
				matched = 0
			}
		}
		if err != nil {
			break
		}
	}
	if found {
		return zipDamaged()
	}
	return nil
}

// zipExtraField finds the extra field with the given ID.
func zipExtraField(extra []byte, id uint16) ([]byte, bool) {
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return nil, false
		}
		if tag == id {
			return extra[:size], true
		}
		extra = extra[size:]
	}
	return nil, false
}

// zipUnsafeName reports item names that would land outside the folder they
// are unzipped into (absolute paths, drive letters, ".." segments) or that
// hide part of themselves (NUL), in either slash style.
func zipUnsafeName(name []byte) bool {
	if bytes.IndexByte(name, 0) >= 0 {
		return true
	}
	n := strings.ReplaceAll(string(name), `\`, "/")
	if strings.HasPrefix(n, "/") {
		return true
	}
	if len(n) >= 2 && n[1] == ':' && (n[0]|0x20 >= 'a' && n[0]|0x20 <= 'z') {
		return true
	}
	for _, seg := range strings.Split(n, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}
