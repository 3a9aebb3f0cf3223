// Package e2e holds the end-to-end tests: the real console on a loopback
// port with a temporary database, driven by Debian's Chromium.
package e2e
