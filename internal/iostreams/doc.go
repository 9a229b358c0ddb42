// Package iostreams holds the three standard streams of a command and what is
// known about them (terminal or pipe, colour wanted or not), so commands and
// views never look at os.Stdout directly and tests can hand in buffers.
package iostreams
