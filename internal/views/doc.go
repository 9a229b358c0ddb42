// Package views renders models to an io.Writer and does nothing else: no
// I/O besides writing, no decisions. Each command has one view interface with
// a human implementation (lipgloss styles, only when colour is on) and
// machine implementations (JSON, compact text, markdown for pull requests).
// Golden tests render with colour off, so golden files hold no escape codes.
package views
