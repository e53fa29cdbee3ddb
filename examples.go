// Package numerek holds what the whole module shares at its root: the
// example offices built into the binaries, so `make demo` and a fresh
// server run on embedded defaults.
package numerek

import "embed"

// ExampleOffices are examples/offices/*.toml: Starachowice (seed 000) and
// Częstochowa (seed 002).
//
//go:embed examples/offices/*.toml
var ExampleOffices embed.FS

// DefaultOfficeFile is the example the server runs when given no config.
const DefaultOfficeFile = "examples/offices/starachowice.toml"
