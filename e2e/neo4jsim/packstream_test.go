package neo4jsim

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPackStreamEncoding(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []byte
	}{
		{"null", nil, []byte{0xC0}},
		{"true", true, []byte{0xC3}},
		{"tiny int", int64(-16), []byte{0xF0}},
		{"int8", int64(-17), []byte{0xC8, 0xEF}},
		{"int16", int64(1000), []byte{0xC9, 0x03, 0xE8}},
		{"int32", int64(100000), []byte{0xCA, 0x00, 0x01, 0x86, 0xA0}},
		{"int64", int64(math.MaxInt64), []byte{0xCB, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
		{"float", 1.5, []byte{0xC1, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0}},
		{"tiny string", "a", []byte{0x81, 'a'}},
		{"bytes", []byte{1, 2}, []byte{0xCC, 0x02, 1, 2}},
		{"list", []any{int64(1), "x"}, []byte{0x92, 0x01, 0x81, 'x'}},
		{"map", map[string]any{"a": int64(1)}, []byte{0xA1, 0x81, 'a', 0x01}},
		{"struct", &Structure{Tag: 0x70, Fields: []any{map[string]any{}}}, []byte{0xB1, 0x70, 0xA0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pack(nil, tt.in); !bytes.Equal(got, tt.want) {
				t.Errorf("pack(%v): got % X, want % X", tt.in, got, tt.want)
			}
		})
	}
}

func TestPackStreamRoundTrip(t *testing.T) {
	long := strings.Repeat("x", 70000)
	list := make([]any, 300)
	for i := range list {
		list[i] = int64(i * 1000)
	}
	values := []any{
		nil, false, int64(0), int64(-128), int64(127), int64(-32769), int64(math.MinInt64), -0.25,
		"", "é中", long, []byte(long), list,
		map[string]any{"k": []any{map[string]any{"n": nil}}, "long": long},
		&Structure{Tag: 0x10, Fields: []any{"RETURN 1", map[string]any{}, map[string]any{"db": "system"}}},
	}
	for _, v := range values {
		got, err := unpack(pack(nil, v))
		if err != nil {
			t.Fatalf("unpack(pack(%T)): %v", v, err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Errorf("round trip of %T (-want +got):\n%s", v, diff)
		}
	}
}

func TestUnpackRejectsMalformed(t *testing.T) {
	for _, b := range [][]byte{
		{},                             // nothing
		{0x85, 'a'},                    // string shorter than declared
		{0xA1, 0x01, 0x01},             // map key not a string
		{0xC1, 0x00},                   // truncated float
		{0xC0, 0xC0},                   // trailing bytes
		{0xE0},                         // unknown marker
		{0xD6, 0x7F, 0xFF, 0xFF, 0xFF}, // huge list, no data
	} {
		if _, err := unpack(b); err == nil {
			t.Errorf("unpack(% X): no error", b)
		}
	}
}
