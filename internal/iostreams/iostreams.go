package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// ColorMode is the user's --color choice.
type ColorMode string

// Colour choices accepted by --color.
const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// IOStreams are the streams a command reads and writes. Data goes to Out,
// progress and diagnostics to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	Color                          ColorMode
	noColorEnv                     bool
}

// System returns the process's real streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:   isTerminal(os.Stdin),
		stdoutTTY:  isTerminal(os.Stdout),
		stderrTTY:  isTerminal(os.Stderr),
		Color:      ColorAuto,
		noColorEnv: os.Getenv("NO_COLOR") != "",
	}
}

// Test returns streams backed by buffers: not a terminal, no colour.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, Color: ColorAuto}, in, out, errOut
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// IsStdinTTY reports whether standard input is a terminal (a person can answer a prompt).
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal (spinners and
// in-place progress are drawn only then).
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetTTY overrides terminal detection; tests use it to exercise the terminal views.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// ColorEnabled reports whether output on stdout may carry ANSI colour:
// --color=always forces it, --color=never and a non-empty NO_COLOR forbid it,
// otherwise only a terminal gets colour.
func (s *IOStreams) ColorEnabled() bool {
	switch s.Color {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	return !s.noColorEnv && s.stdoutTTY
}
