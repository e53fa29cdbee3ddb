package outbox

import "strings"

// gsmBasic is the GSM 03.38 basic character set; gsmExtended are the
// characters that take an escape and so two septets.
const (
	gsmBasic    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

// withoutMarks writes Polish and Lithuanian letters as plain Latin ones,
// as SMS gateways' "normalize" does, so a text stays in GSM-7.
var withoutMarks = strings.NewReplacer(
	"ą", "a", "ć", "c", "ę", "e", "ł", "l", "ń", "n", "ó", "o", "ś", "s", "ź", "z", "ż", "z",
	"Ą", "A", "Ć", "C", "Ę", "E", "Ł", "L", "Ń", "N", "Ó", "O", "Ś", "S", "Ź", "Z", "Ż", "Z",
	"č", "c", "ė", "e", "į", "i", "š", "s", "ų", "u", "ū", "u", "ž", "z",
	"Č", "C", "Ė", "E", "Į", "I", "Š", "S", "Ų", "U", "Ū", "U", "Ž", "Z",
	"–", "-", "—", "-", "„", "\"", "”", "\"", "“", "\"", "’", "'",
)

// ToGSM writes s without diacritics where that makes it GSM-7; a text
// that still is not (Cyrillic) is left as it was.
func ToGSM(s string) string {
	plain := withoutMarks.Replace(s)
	if _, gsm := SMSLength(plain); gsm {
		return plain
	}
	return s
}

// SMSLength is how many units s takes in one SMS and whether it is GSM-7:
// septets (160 fit one message), else UTF-16 code units (70 fit one).
func SMSLength(s string) (units int, gsm bool) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			units++
		case strings.ContainsRune(gsmExtended, r):
			units += 2
		default:
			return utf16Len(s), false
		}
	}
	return units, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// SMSParts is how many messages s is sent as: one up to 160 septets or 70
// UCS-2 units, else 153 or 67 each (the rest carries the joining header).
func SMSParts(s string) int {
	units, gsm := SMSLength(s)
	single, multi := 70, 67
	if gsm {
		single, multi = 160, 153
	}
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}
