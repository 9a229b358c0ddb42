package neo4jsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Structure is a PackStream structure: a one-byte tag and its fields. Bolt
// messages are structures at the top level.
type Structure struct {
	Tag    byte
	Fields []any
}

// PackStream markers, named as in the PackStream specification.
const (
	psNull    = 0xC0
	psFalse   = 0xC2
	psTrue    = 0xC3
	psFloat64 = 0xC1
	psInt8    = 0xC8
	psInt16   = 0xC9
	psInt32   = 0xCA
	psInt64   = 0xCB
	psBytes8  = 0xCC
	psBytes16 = 0xCD
	psBytes32 = 0xCE
	psStr8    = 0xD0
	psStr16   = 0xD1
	psStr32   = 0xD2
	psList8   = 0xD4
	psList16  = 0xD5
	psList32  = 0xD6
	psMap8    = 0xD8
	psMap16   = 0xD9
	psMap32   = 0xDA
	psStruct8 = 0xB0 // tiny struct: 0xB0 + field count (0..15)
)

// errPackStream marks malformed input; the connection is closed on it
// because a Bolt stream cannot be resynchronised after a bad message.
var errPackStream = errors.New("packstream: malformed value")

// pack appends the PackStream encoding of v to buf. Map keys are written in
// sorted order so that encodings are deterministic (tests compare bytes).
func pack(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, psNull)
	case bool:
		if x {
			return append(buf, psTrue)
		}
		return append(buf, psFalse)
	case int:
		return packInt(buf, int64(x))
	case int8:
		return packInt(buf, int64(x))
	case int16:
		return packInt(buf, int64(x))
	case int32:
		return packInt(buf, int64(x))
	case int64:
		return packInt(buf, x)
	case uint8:
		return packInt(buf, int64(x))
	case uint16:
		return packInt(buf, int64(x))
	case uint32:
		return packInt(buf, int64(x))
	case float32:
		return packFloat(buf, float64(x))
	case float64:
		return packFloat(buf, x)
	case string:
		buf = packHeader(buf, len(x), 0x80, psStr8, psStr16, psStr32)
		return append(buf, x...)
	case []byte:
		switch n := len(x); {
		case n <= math.MaxUint8:
			buf = append(buf, psBytes8, byte(n))
		case n <= math.MaxUint16:
			buf = append(buf, psBytes16)
			buf = binary.BigEndian.AppendUint16(buf, uint16(n))
		default:
			buf = append(buf, psBytes32)
			buf = binary.BigEndian.AppendUint32(buf, uint32(n))
		}
		return append(buf, x...)
	case []any:
		buf = packHeader(buf, len(x), 0x90, psList8, psList16, psList32)
		for _, e := range x {
			buf = pack(buf, e)
		}
		return buf
	case []string:
		buf = packHeader(buf, len(x), 0x90, psList8, psList16, psList32)
		for _, e := range x {
			buf = pack(buf, e)
		}
		return buf
	case []int64:
		buf = packHeader(buf, len(x), 0x90, psList8, psList16, psList32)
		for _, e := range x {
			buf = pack(buf, e)
		}
		return buf
	case map[string]any:
		buf = packHeader(buf, len(x), 0xA0, psMap8, psMap16, psMap32)
		for _, k := range sortedKeys(x) {
			buf = pack(buf, k)
			buf = pack(buf, x[k])
		}
		return buf
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = packHeader(buf, len(x), 0xA0, psMap8, psMap16, psMap32)
		for _, k := range keys {
			buf = pack(buf, k)
			buf = pack(buf, x[k])
		}
		return buf
	case *Structure:
		buf = append(buf, psStruct8|byte(len(x.Fields)), x.Tag)
		for _, f := range x.Fields {
			buf = pack(buf, f)
		}
		return buf
	case Structure:
		return pack(buf, &x)
	default:
		// A programming error in the simulator, not a client problem: make it
		// visible in the client's output rather than corrupting the stream.
		return pack(buf, fmt.Sprintf("<unsupported %T>", v))
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func packHeader(buf []byte, n int, tiny, m8, m16, m32 byte) []byte {
	switch {
	case n < 16:
		return append(buf, tiny|byte(n))
	case n <= math.MaxUint8:
		return append(buf, m8, byte(n))
	case n <= math.MaxUint16:
		buf = append(buf, m16)
		return binary.BigEndian.AppendUint16(buf, uint16(n))
	default:
		buf = append(buf, m32)
		return binary.BigEndian.AppendUint32(buf, uint32(n))
	}
}

func packInt(buf []byte, v int64) []byte {
	switch {
	case v >= -16 && v <= 127:
		return append(buf, byte(int8(v)))
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(buf, psInt8, byte(int8(v)))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		buf = append(buf, psInt16)
		return binary.BigEndian.AppendUint16(buf, uint16(int16(v)))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		buf = append(buf, psInt32)
		return binary.BigEndian.AppendUint32(buf, uint32(int32(v)))
	default:
		buf = append(buf, psInt64)
		return binary.BigEndian.AppendUint64(buf, uint64(v))
	}
}

func packFloat(buf []byte, v float64) []byte {
	buf = append(buf, psFloat64)
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(v))
}

// unpacker decodes PackStream values from a complete message buffer.
type unpacker struct {
	b []byte
	i int
}

// unpack decodes exactly one value from b; trailing bytes are an error.
func unpack(b []byte) (any, error) {
	u := &unpacker{b: b}
	v, err := u.value()
	if err != nil {
		return nil, err
	}
	if u.i != len(u.b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errPackStream, len(u.b)-u.i)
	}
	return v, nil
}

func (u *unpacker) take(n int) ([]byte, error) {
	if n < 0 || u.i+n > len(u.b) {
		return nil, fmt.Errorf("%w: truncated", errPackStream)
	}
	s := u.b[u.i : u.i+n]
	u.i += n
	return s, nil
}

func (u *unpacker) size(marker byte, m8, m16, m32 byte) (int, error) {
	var w int
	switch marker {
	case m8:
		w = 1
	case m16:
		w = 2
	case m32:
		w = 4
	}
	s, err := u.take(w)
	if err != nil {
		return 0, err
	}
	switch w {
	case 1:
		return int(s[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(s)), nil
	default:
		return int(binary.BigEndian.Uint32(s)), nil
	}
}

func (u *unpacker) value() (any, error) {
	mb, err := u.take(1)
	if err != nil {
		return nil, err
	}
	m := mb[0]
	switch {
	case m <= 0x7F || m >= 0xF0:
		return int64(int8(m)), nil
	case m&0xF0 == 0x80:
		s, err := u.take(int(m & 0x0F))
		return string(s), err
	case m&0xF0 == 0x90:
		return u.list(int(m & 0x0F))
	case m&0xF0 == 0xA0:
		return u.dict(int(m & 0x0F))
	case m&0xF0 == 0xB0:
		return u.structure(int(m & 0x0F))
	}
	switch m {
	case psNull:
		return nil, nil
	case psTrue:
		return true, nil
	case psFalse:
		return false, nil
	case psFloat64:
		s, err := u.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case psInt8:
		s, err := u.take(1)
		if err != nil {
			return nil, err
		}
		return int64(int8(s[0])), nil
	case psInt16:
		s, err := u.take(2)
		if err != nil {
			return nil, err
		}
		return int64(int16(binary.BigEndian.Uint16(s))), nil
	case psInt32:
		s, err := u.take(4)
		if err != nil {
			return nil, err
		}
		return int64(int32(binary.BigEndian.Uint32(s))), nil
	case psInt64:
		s, err := u.take(8)
		if err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(s)), nil
	case psBytes8, psBytes16, psBytes32:
		n, err := u.size(m, psBytes8, psBytes16, psBytes32)
		if err != nil {
			return nil, err
		}
		s, err := u.take(n)
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), s...), nil
	case psStr8, psStr16, psStr32:
		n, err := u.size(m, psStr8, psStr16, psStr32)
		if err != nil {
			return nil, err
		}
		s, err := u.take(n)
		return string(s), err
	case psList8, psList16, psList32:
		n, err := u.size(m, psList8, psList16, psList32)
		if err != nil {
			return nil, err
		}
		return u.list(n)
	case psMap8, psMap16, psMap32:
		n, err := u.size(m, psMap8, psMap16, psMap32)
		if err != nil {
			return nil, err
		}
		return u.dict(n)
	}
	return nil, fmt.Errorf("%w: unknown marker 0x%02X", errPackStream, m)
}

func (u *unpacker) list(n int) (any, error) {
	if n > len(u.b)-u.i { // each element needs at least one byte
		return nil, fmt.Errorf("%w: list too long", errPackStream)
	}
	l := make([]any, n)
	for i := range l {
		v, err := u.value()
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

func (u *unpacker) dict(n int) (any, error) {
	if n > len(u.b)-u.i {
		return nil, fmt.Errorf("%w: map too long", errPackStream)
	}
	d := make(map[string]any, n)
	for range n {
		k, err := u.value()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("%w: map key is %T", errPackStream, k)
		}
		v, err := u.value()
		if err != nil {
			return nil, err
		}
		d[ks] = v
	}
	return d, nil
}

func (u *unpacker) structure(n int) (any, error) {
	tb, err := u.take(1)
	if err != nil {
		return nil, err
	}
	s := &Structure{Tag: tb[0], Fields: make([]any, n)}
	for i := range s.Fields {
		v, err := u.value()
		if err != nil {
			return nil, err
		}
		s.Fields[i] = v
	}
	return s, nil
}
