package sequence

import (
	"fmt"
	"strings"
)

// Languages are the languages authflow writes its notes and findings in;
// every text of a Catalog has each of them.
var Languages = []string{"en", "zh"}

// Language returns the language of Languages that lang names ("zh",
// "zh-CN", "zh_TW" are "zh"), or "en".
func Language(lang string) string {
	l := strings.ToLower(lang)
	for _, k := range Languages {
		if l == k || strings.HasPrefix(l, k+"-") || strings.HasPrefix(l, k+"_") {
			return k
		}
	}
	return "en"
}

// Catalog holds texts by key, each in every language of Languages. A text
// is a fmt format whose verbs number their arguments (%[1]s) so that each
// language can put them in its own order, or leave some out: every
// language of a text gets the same arguments.
type Catalog map[string]map[string]string

// Text writes the text of key in lang (English where lang has none) with
// args.
func (c Catalog) Text(lang, key string, args ...any) string {
	format, ok := c[key][Language(lang)]
	if !ok {
		format = c[key]["en"]
	}
	return fmt.Sprintf(format, args...)
}

// Missing lists the texts that lack a language of Languages.
func (c Catalog) Missing() []string {
	var out []string
	for key, texts := range c {
		for _, l := range Languages {
			if _, ok := texts[l]; !ok {
				out = append(out, key+": no "+l+" text")
			}
		}
	}
	return out
}
