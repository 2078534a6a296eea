package notify_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/notify"
)

// A server on another machine that does not offer STARTTLS gets neither
// the password nor the message.
func TestSMTPMailerRequiresTLSBeyondThisMachine(t *testing.T) {
	ip := nonLoopbackIP(t)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	defer l.Close()
	leaked := make(chan string, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				_, _ = c.Write([]byte("220 plain.example ESMTP\r\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"):
						_, _ = c.Write([]byte("250-plain.example\r\n250 AUTH PLAIN LOGIN\r\n"))
					case strings.HasPrefix(cmd, "QUIT"):
						_, _ = c.Write([]byte("221 bye\r\n"))
						return
					case strings.HasPrefix(cmd, "AUTH"), strings.HasPrefix(cmd, "MAIL"):
						leaked <- cmd
						_, _ = c.Write([]byte("530 no\r\n"))
					default:
						_, _ = c.Write([]byte("250 ok\r\n"))
					}
				}
			}(c)
		}
	}()
	m, err := notify.NewSMTPMailer("smtp://portal:secret@"+l.Addr().String(), "noreply@procurement.example.nhs.uk")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), notify.Message{To: "a@example.nhs.uk", Subject: "s", Text: "t", MessageID: "x@portal"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("send over plain SMTP to %s: err = %v, want a STARTTLS refusal", ip, err)
	}
	select {
	case cmd := <-leaked:
		t.Fatalf("the client sent %q without TLS", cmd)
	default:
	}
}

func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address to test with")
	return ""
}
