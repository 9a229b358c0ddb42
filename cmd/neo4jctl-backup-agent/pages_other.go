//go:build !linux

package main

// releaseInitPages is Linux-only (pages_linux.go).
func releaseInitPages() {}
