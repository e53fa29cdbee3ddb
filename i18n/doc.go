// Package i18n holds the message catalogs of Numerek in Polish, English,
// Lithuanian, Russian and Ukrainian, and the plural rules each language needs
// ("1 osoba", "3 osoby", "5 osób").
//
// Catalogs are TOML files under messages/<lang>/, one file per area (ticket,
// kiosk, web, ...) so that each part of the product keeps its own words. A
// message is either a plain string or a table of plural forms (one, few,
// many, other). Placeholders are written {name} and filled by name, because
// word order differs between languages.
package i18n
