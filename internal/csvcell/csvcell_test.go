package csvcell

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"=SUM(A1)": "'=SUM(A1)", "+44": "'+44", "-1": "'-1", "@cmd": "'@cmd", "\tx": "'\tx",
		"plain": "plain", "": "", "'quoted": "'quoted",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if got := Unescape(Escape(in)); got != in {
			t.Errorf("Unescape(Escape(%q)) = %q", in, got)
		}
	}
}
