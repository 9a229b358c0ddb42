package neo4j

import "testing"

func TestHasStatusCheck(t *testing.T) {
	for v, want := range map[string]bool{
		"5.26.0": true, "5.24.1": true, "5.23.0": false, "5.9.0": false, "4.4.30": false,
		"2025.10.1": true, "2026.01.0": true, "dev": true,
	} {
		if got := HasStatusCheck(v); got != want {
			t.Errorf("HasStatusCheck(%q): got %v, want %v", v, got, want)
		}
	}
}
