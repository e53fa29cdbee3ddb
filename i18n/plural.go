package i18n

// PluralForm is a CLDR plural category.
type PluralForm string

// The plural categories the five languages use.
const (
	FormOne   PluralForm = "one"
	FormFew   PluralForm = "few"
	FormMany  PluralForm = "many"
	FormOther PluralForm = "other"
)

func validForm(f PluralForm) bool {
	switch f {
	case FormOne, FormFew, FormMany, FormOther:
		return true
	}
	return false
}

// RequiredForms lists the plural forms a catalog must give for lang, for
// whole numbers (the only counts Numerek shows).
func RequiredForms(lang string) []PluralForm {
	switch lang {
	case "pl", "ru", "uk":
		return []PluralForm{FormOne, FormFew, FormMany}
	case "lt":
		return []PluralForm{FormOne, FormFew, FormOther}
	default:
		return []PluralForm{FormOne, FormOther}
	}
}

// Plural returns the CLDR plural category of the whole number n in lang.
func Plural(lang string, n int) PluralForm {
	if n < 0 {
		n = -n
	}
	mod10, mod100 := n%10, n%100
	switch lang {
	case "pl":
		switch {
		case n == 1:
			return FormOne
		case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
			return FormFew
		default:
			return FormMany
		}
	case "ru", "uk":
		switch {
		case mod10 == 1 && mod100 != 11:
			return FormOne
		case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
			return FormFew
		default:
			return FormMany
		}
	case "lt":
		switch {
		case mod10 == 1 && (mod100 < 11 || mod100 > 19):
			return FormOne
		case mod10 >= 2 && (mod100 < 11 || mod100 > 19):
			return FormFew
		default:
			return FormOther
		}
	default:
		if n == 1 {
			return FormOne
		}
		return FormOther
	}
}
