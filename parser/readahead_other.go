//go:build !linux

package parser

import "os"

const canAdvise = false

func adviseWillNeed(*os.File, int64, int64) {}

func openNoDelay(path string) (*os.File, error) { return os.Open(path) }
