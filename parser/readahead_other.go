//go:build !linux

package parser

import "os"

const canAdvise = false

func adviseWillNeed(*os.File, int64, int64) {}
