//go:build !linux || !cgo

package main

// trimHeap does nothing where glibc's malloc_trim is not at hand.
func trimHeap() {}
