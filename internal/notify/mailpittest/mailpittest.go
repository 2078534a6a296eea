// Package mailpittest runs a real Mailpit SMTP server for tests, so email is
// sent over SMTP and read back through Mailpit's HTTP API exactly as it
// arrived. Install Mailpit with
//
//	go install github.com/axllent/mailpit@v1.27.11
//
// Tests skip when it is missing, except in CI (CI set), where they fail.
package mailpittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Install is the command that installs the Mailpit version the tests use.
const Install = "go install github.com/axllent/mailpit@v1.27.11"

// The credentials the server requires.
const (
	User     = "portal"
	Password = "secret"
)

// Server is a running Mailpit.
type Server struct {
	// SMTPURL is smtp://portal:secret@127.0.0.1:port. The server requires
	// exactly these credentials (over plain SMTP, since it is local), so a
	// test proves the client logs in.
	SMTPURL string
	// API is the base URL of the web UI and HTTP API, http://127.0.0.1:port.
	API string

	bin, dir, smtpAddr, httpAddr string
	tb                           testing.TB

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	running bool
}

// Summary is one message Mailpit received.
type Summary struct {
	ID        string // Mailpit's database ID
	MessageID string // the Message-ID header, without angle brackets
	From      string
	To        []string
	Subject   string
	Text      string
	HTML      string
	Headers   map[string][]string
}

// Binary finds the mailpit executable: $MAILPIT_BIN, mailpit on the PATH,
// or $(go env GOPATH)/bin/mailpit. It returns "" when there is none.
func Binary() string {
	if p := os.Getenv("MAILPIT_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		dirs = filepath.SplitList(strings.TrimSpace(string(out)))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "bin", "mailpit")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// Start runs Mailpit on free loopback ports with a database in a temporary
// folder, waits until it answers and stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("mailpit is not installed; CI must install it with `%s`", Install)
		}
		tb.Skipf("mailpit is not installed; install it with `%s` to run this test", Install)
	}
	s := &Server{bin: bin, dir: tb.TempDir(), smtpAddr: freeAddr(tb), httpAddr: freeAddr(tb), tb: tb}
	s.SMTPURL = "smtp://" + User + ":" + Password + "@" + s.smtpAddr
	if err := os.WriteFile(filepath.Join(s.dir, "smtp-auth"), []byte(User+":"+Password+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	s.API = "http://" + s.httpAddr
	tb.Cleanup(s.Stop)
	s.start()
	return s
}

// freeAddr finds a loopback port nobody is listening on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func (s *Server) start() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return
	}
	logFile := filepath.Join(s.dir, "mailpit.log")
	// #nosec G204 -- the Mailpit binary found for the test, with fixed flags and the test's own addresses and folder
	cmd := exec.Command(s.bin,
		"--smtp", s.smtpAddr,
		"--listen", s.httpAddr,
		"--database", filepath.Join(s.dir, "mailpit.db"), // kept across Restart
		"--smtp-auth-file", filepath.Join(s.dir, "smtp-auth"),
		"--smtp-auth-allow-insecure", // plain SMTP AUTH, on loopback only
		"--smtp-disable-rdns",
		"--disable-version-check",
		"--log-file", logFile,
	)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start mailpit: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done, s.running = cmd, done, true

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			s.running = false
			s.tb.Fatalf("mailpit exited while starting:\n%s", readLog(logFile))
		default:
		}
		if ready(s.API, s.smtpAddr) {
			return
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			s.running = false
			s.tb.Fatalf("mailpit did not answer on %s and %s within 15s:\n%s", s.API, s.smtpAddr, readLog(logFile))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(api, smtpAddr string) bool {
	resp, err := http.Get(api + "/readyz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", smtpAddr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func readLog(path string) string {
	b, _ := os.ReadFile(path) // #nosec G304 -- the log in the test's own temporary folder; unreadable means nothing to show
	return string(b)
}

// Stop stops Mailpit, as if the SMTP server went down; messages already
// received are kept for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.running = false
	// Make sure the SMTP port refuses connections before returning.
	for range 100 {
		c, err := net.DialTimeout("tcp", s.smtpAddr, 100*time.Millisecond)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart starts Mailpit again on the same ports with the same messages.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

// Messages returns every message received, oldest first, with its text
// and HTML bodies.
func (s *Server) Messages(tb testing.TB) []Summary {
	tb.Helper()
	var list struct {
		Messages []struct {
			ID string
		} `json:"messages"`
	}
	s.get(tb, "/api/v1/messages?limit=1000", &list)
	out := make([]Summary, 0, len(list.Messages))
	for _, m := range list.Messages {
		var msg struct {
			ID        string
			MessageID string
			From      *address
			To        []address
			Subject   string
			Text      string
			HTML      string
		}
		s.get(tb, "/api/v1/message/"+m.ID, &msg)
		sum := Summary{ID: msg.ID, MessageID: msg.MessageID, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}
		if msg.From != nil {
			sum.From = msg.From.Address
		}
		for _, a := range msg.To {
			sum.To = append(sum.To, a.Address)
		}
		s.get(tb, "/api/v1/message/"+m.ID+"/headers", &sum.Headers)
		out = append(out, sum)
	}
	slices.Reverse(out) // the API lists newest first
	return out
}

type address struct {
	Name    string
	Address string
}

// WaitForMessages waits up to five seconds until at least n messages
// have arrived and returns them all.
func (s *Server) WaitForMessages(tb testing.TB, n int) []Summary {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		msgs := s.Messages(tb)
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DeleteAll empties the mailbox.
func (s *Server) DeleteAll(tb testing.TB) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.API+"/api/v1/messages", bytes.NewReader([]byte("{}")))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("mailpit: delete messages: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailpit: delete messages: %s", resp.Status)
	}
}

func (s *Server) get(tb testing.TB, path string, into any) {
	tb.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		tb.Fatalf("mailpit: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailpit: GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		tb.Fatalf("mailpit: GET %s: %v", path, err)
	}
}

// String describes the server for test logs.
func (s *Server) String() string { return fmt.Sprintf("mailpit smtp=%s api=%s", s.smtpAddr, s.API) }
