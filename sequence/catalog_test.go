package sequence

import "testing"

func TestNotesComplete(t *testing.T) {
	if m := notes.Missing(); len(m) > 0 {
		t.Errorf("notes missing a language: %v", m)
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "zh": "zh", "zh-CN": "zh", "ZH_tw": "zh", "fr": "en", "": "en", "zhx": "en"} {
		if got := Language(in); got != want {
			t.Errorf("Language(%q) = %q, want %q", in, got, want)
		}
	}
}
