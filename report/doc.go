// Package report renders slotaudit's results for people and machines: the
// JSON shapes of the command-line contract, tables for terminals, and the
// escaping that keeps untrusted log text from reaching a terminal raw.
//
// It decides nothing about slots; it only presents what the other packages
// found. Words mean what the glossary in package reconstruct says; "report"
// alone is this package, never Flink's slot report.
package report
