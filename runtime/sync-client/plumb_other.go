//go:build !linux

package main

import (
	"fmt"
	"io"
	"os"
)

// plumb needs Linux's network namespaces and TUN devices (plumb_linux.go).
func plumb(io.Reader, io.Writer) int {
	fmt.Fprintln(os.Stderr, "tgc-sync plumb: Linux only")
	return exitEnvironment
}
