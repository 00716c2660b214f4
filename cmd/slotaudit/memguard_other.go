//go:build !unix

package main

// addressSpaceLimit: no RLIMIT_AS outside Unix.
func addressSpaceLimit() (int64, bool) { return 0, false }
