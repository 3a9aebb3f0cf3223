//go:build linux && cgo

package main

// #include <malloc.h>
import "C"

// trimHeap hands the C heap's free memory back to the system. SQLite's
// page caches of the seeding stay in glibc's heap after the store that
// seeded is closed; a server started on the database would not hold them.
func trimHeap() { C.malloc_trim(0) }
