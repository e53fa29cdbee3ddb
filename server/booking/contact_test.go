package booking

import (
	"strings"
	"testing"
)

// ContactKey reads what residents type; whatever Validate lets through,
// it gives one key that the same contact typed another way also gives.
func FuzzContactKey(f *testing.F) {
	f.Add("Jan.Kowalski@Example.PL", "48")
	f.Add("+48 (600) 100-200", "48")
	f.Add("0048 600 100 200", "370")
	f.Add("600100200", "")
	f.Fuzz(func(t *testing.T, contact, country string) {
		_, clean, err := Request{Name: "Jan Kowalski", Contact: contact, Terms: true}.Validate()
		if err != nil {
			return
		}
		key := ContactKey(clean, country)
		if len(key) > 260 {
			t.Fatalf("%q gives a key of %d bytes", clean, len(key))
		}
		if !strings.HasPrefix(key, "mailto:") && !strings.HasPrefix(key, "tel:+") {
			t.Fatalf("%q gives key %q", clean, key)
		}
		if again := ContactKey(" "+strings.ToUpper(clean)+" ", country); strings.HasPrefix(key, "mailto:") && again != key {
			t.Fatalf("%q and its upper case give %q and %q", clean, key, again)
		}
	})
}
