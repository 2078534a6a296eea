package notify

import "testing"

func TestIsLocalHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "mail.localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"mail.example.com": false, "10.0.0.5": false, "localhost.example.com": false, "": false,
	} {
		if got := isLocalHost(host); got != want {
			t.Errorf("isLocalHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCheckLink(t *testing.T) {
	const base = "https://portal.example.nhs.uk"
	for link, ok := range map[string]bool{
		"": true, "/procurements/1": true, base + "/x": true,
		"//evil.example": false, `/\evil.example`: false, "https://evil.example": false,
		base + ".evil.example/x": false, "javascript:alert(1)": false, "procurements/1": false,
	} {
		if err := checkLink(link, base); (err == nil) != ok {
			t.Errorf("checkLink(%q) = %v, want ok=%v", link, err, ok)
		}
	}
}
