package views

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles holds every colour the human views use, so there is one place to
// change them. With colour off every style is the identity and output holds
// no escape codes.
type styles struct {
	add, change, destroy, read, irreversible, header, dim, refusal func(string) string
}

func newStyles(w io.Writer, color bool) styles {
	if !color {
		id := func(s string) string { return s }
		return styles{id, id, id, id, id, id, id, id}
	}
	r := lipgloss.NewRenderer(w)
	// The caller decided colour is wanted (terminal, --color=always); do not
	// let lipgloss second-guess it by probing w.
	r.SetColorProfile(termenv.ANSI256)
	render := func(st lipgloss.Style) func(string) string {
		return func(s string) string { return st.Render(s) }
	}
	fg := func(c string) func(string) string {
		return render(r.NewStyle().Foreground(lipgloss.Color(c)))
	}
	return styles{
		add:          fg("2"),
		change:       fg("3"),
		destroy:      fg("1"),
		read:         fg("6"),
		irreversible: render(r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)),
		header:       render(r.NewStyle().Bold(true)),
		dim:          render(r.NewStyle().Faint(true)),
		refusal:      render(r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)),
	}
}
