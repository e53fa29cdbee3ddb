// Package storetest holds the conformance tests every store of tokens,
// clerks and devices passes: the bbolt files of package store and the
// PostgreSQL tables of package store/pgstore run the same tests, so a
// server behaves alike on either.
package storetest
