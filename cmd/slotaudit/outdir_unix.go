//go:build unix

package main

import "syscall"

// oNoFollow makes an open fail on a symlink (unix only; elsewhere writes
// go into a fresh staging directory, which nobody else can plant links in).
const oNoFollow = syscall.O_NOFOLLOW
