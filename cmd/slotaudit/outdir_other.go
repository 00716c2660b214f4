//go:build !unix

package main

const oNoFollow = 0
