package neo4jsim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// Bolt message signatures.
const (
	msgHello     = 0x01
	msgGoodbye   = 0x02
	msgReset     = 0x0F
	msgRun       = 0x10
	msgBegin     = 0x11
	msgCommit    = 0x12
	msgRollback  = 0x13
	msgDiscard   = 0x2F
	msgPull      = 0x3F
	msgTelemetry = 0x54
	msgRoute     = 0x66
	msgLogon     = 0x6A
	msgLogoff    = 0x6B

	msgSuccess = 0x70
	msgRecord  = 0x71
	msgIgnored = 0x7E
	msgFailure = 0x7F
)

var boltMagic = []byte{0x60, 0x60, 0xB0, 0x17}

// conn is one Bolt connection. It is served by a single goroutine; shared
// state is reached through the Simulator under its mutex.
type conn struct {
	sim *Simulator
	srv *simServer
	nc  net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	id  string

	minor    int
	hello    bool
	authed   bool
	failed   bool
	inTx     bool
	txDB     string
	streams  []*stream
	nextQid  int64
	out      []byte
	chunkBuf []byte
}

// stream is a result waiting to be pulled.
type stream struct {
	qid  int64
	res  *result
	pos  int
	inTx bool
}

func newConn(s *Simulator, srv *simServer, nc net.Conn, seq int) *conn {
	return &conn{
		sim: s, srv: srv, nc: nc,
		r:  bufio.NewReaderSize(nc, 32<<10),
		w:  bufio.NewWriterSize(nc, 32<<10),
		id: fmt.Sprintf("bolt-%d", seq),
	}
}

func (c *conn) serve() {
	defer c.nc.Close()
	if err := c.handshake(); err != nil {
		return
	}
	for {
		// Answer everything pipelined so far before blocking on the socket:
		// one flush per client batch keeps loopback round-trips cheap.
		if c.r.Buffered() == 0 {
			if err := c.w.Flush(); err != nil {
				return
			}
		}
		msg, err := c.readMessage()
		if err != nil {
			return
		}
		if msg == nil { // NOOP keep-alive
			continue
		}
		if !c.handle(msg) {
			c.w.Flush()
			return
		}
	}
}

func (c *conn) handshake() error {
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hs [20]byte
	if _, err := io.ReadFull(c.r, hs[:]); err != nil {
		return err
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	if !bytes.Equal(hs[:4], boltMagic) {
		return fmt.Errorf("bad magic % x", hs[:4])
	}
	minor := -1
	for i := range 4 {
		p := hs[4+4*i : 8+4*i]
		major, top, back := p[3], int(p[2]), int(p[1])
		// The manifest marker (major 0xFF) is ignored: a plain version
		// answer inside the offered ranges is valid and the driver takes it.
		if major != 5 {
			continue
		}
		hi := min(top, c.sim.cfg.MaxBoltMinor)
		if hi >= top-back && hi > minor {
			minor = hi
		}
	}
	if minor < 0 {
		c.nc.Write([]byte{0, 0, 0, 0})
		return fmt.Errorf("no common Bolt version")
	}
	c.minor = minor
	_, err := c.nc.Write([]byte{0, 0, byte(minor), 5})
	return err
}

// readMessage returns the next message's bytes, or nil for a NOOP.
func (c *conn) readMessage() ([]byte, error) {
	c.chunkBuf = c.chunkBuf[:0]
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 {
			if len(c.chunkBuf) == 0 {
				return nil, nil
			}
			return c.chunkBuf, nil
		}
		start := len(c.chunkBuf)
		c.chunkBuf = append(c.chunkBuf, make([]byte, n)...)
		if _, err := io.ReadFull(c.r, c.chunkBuf[start:]); err != nil {
			return nil, err
		}
	}
}

// send writes one message, chunked.
func (c *conn) send(tag byte, fields ...any) {
	c.out = pack(c.out[:0], &Structure{Tag: tag, Fields: fields})
	b := c.out
	for len(b) > 0 {
		n := min(len(b), 0xFFFF)
		var hdr [2]byte
		binary.BigEndian.PutUint16(hdr[:], uint16(n))
		c.w.Write(hdr[:])
		c.w.Write(b[:n])
		b = b[n:]
	}
	c.w.Write([]byte{0, 0})
}

func (c *conn) success(meta map[string]any) { c.send(msgSuccess, meta) }

func (c *conn) failure(e *cypherError) {
	meta := map[string]any{"code": e.code, "message": e.msg}
	if c.minor >= 7 {
		meta = e.gqlFields(c.sim.community)
	}
	c.send(msgFailure, meta)
	c.failed = true
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// handle processes one request; false closes the connection.
func (c *conn) handle(raw []byte) bool {
	v, err := unpack(raw)
	if err != nil {
		return false
	}
	m, ok := v.(*Structure)
	if !ok {
		return false
	}
	if m.Tag == msgGoodbye {
		return false
	}
	if !c.hello && m.Tag != msgHello {
		return false // protocol violation: a real server hangs up
	}
	if c.failed && m.Tag != msgReset {
		c.send(msgIgnored)
		return true
	}
	field := func(i int) any {
		if i < len(m.Fields) {
			return m.Fields[i]
		}
		return nil
	}
	switch m.Tag {
	case msgHello:
		if c.hello {
			return false
		}
		c.hello = true
		extra := asMap(field(0))
		if c.minor == 0 {
			if !c.checkAuth(extra) {
				return false
			}
		}
		c.success(map[string]any{
			"server":        "Neo4j/" + c.srv.version,
			"connection_id": c.id,
			"hints":         map[string]any{"telemetry.enabled": true},
		})
	case msgLogon:
		if c.minor == 0 || c.authed {
			c.failure(&cypherError{code: CodeRequestInvalid, msg: "LOGON is not valid in this state"})
			return true
		}
		return c.checkAuth(asMap(field(0)))
	case msgLogoff:
		if !c.authed {
			c.failure(&cypherError{code: CodeRequestInvalid, msg: "LOGOFF is not valid in this state"})
			return true
		}
		c.authed = false
		c.success(map[string]any{})
	case msgReset:
		c.failed, c.inTx, c.streams = false, false, nil
		c.success(map[string]any{})
	case msgTelemetry:
		c.success(map[string]any{})
	default:
		if !c.authed {
			c.failure(&cypherError{code: CodeUnauthorized, msg: msgUnauthorized})
			return false
		}
		c.handleReady(m.Tag, field)
	}
	return true
}

func (c *conn) checkAuth(tok map[string]any) bool {
	scheme, _ := tok["scheme"].(string)
	user, _ := tok["principal"].(string)
	pw, _ := tok["credentials"].(string)
	c.sim.mu.Lock()
	want := c.sim.password
	wantUser := c.sim.cfg.User
	c.sim.mu.Unlock()
	if scheme != "basic" || user != wantUser || pw != want {
		c.failure(&cypherError{code: CodeUnauthorized, msg: msgUnauthorized})
		return false
	}
	c.authed = true
	if c.minor > 0 {
		c.success(map[string]any{})
	}
	return true
}

func (c *conn) handleReady(tag byte, field func(int) any) {
	switch tag {
	case msgRun:
		query, _ := field(0).(string)
		params := asMap(field(1))
		extra := asMap(field(2))
		db := c.txDB
		if !c.inTx {
			db, _ = extra["db"].(string)
			if len(c.streams) > 0 { // an unconsumed auto-commit result is discarded
				c.streams = nil
			}
		}
		if db == "" {
			db = c.sim.defaultDB
		}
		if d := c.sim.latencyNow(); d > 0 {
			time.Sleep(d)
		}
		var res *result
		var err *cypherError
		if f, ok := c.sim.takeSlow(query); ok {
			res, err = c.executeSlowly(f, db, query, params)
		} else {
			res, err = c.sim.execute(c.srv, db, query, params)
		}
		if err != nil {
			c.failure(err)
			return
		}
		meta := map[string]any{"fields": strList(res.fields), "t_first": int64(0)}
		st := &stream{res: res, qid: -1, inTx: c.inTx}
		if c.inTx {
			st.qid = c.nextQid
			c.nextQid++
			meta["qid"] = st.qid
		}
		c.streams = append(c.streams, st)
		c.success(meta)
	case msgPull, msgDiscard:
		args := asMap(field(0))
		n, _ := args["n"].(int64)
		qid, hasQid := args["qid"].(int64)
		idx := len(c.streams) - 1
		if hasQid && qid >= 0 {
			idx = -1
			for i, st := range c.streams {
				if st.qid == qid {
					idx = i
				}
			}
		}
		if idx < 0 {
			c.failure(&cypherError{code: CodeRequestInvalid, msg: "No such result stream"})
			return
		}
		st := c.streams[idx]
		if tag == msgDiscard {
			st.pos = len(st.res.rows)
		}
		for (n < 0 || n > 0) && st.pos < len(st.res.rows) {
			c.send(msgRecord, st.res.rows[st.pos])
			st.pos++
			if n > 0 {
				n--
			}
		}
		if st.pos < len(st.res.rows) {
			c.success(map[string]any{"has_more": true})
			return
		}
		c.streams = append(c.streams[:idx], c.streams[idx+1:]...)
		meta := map[string]any{"type": st.res.qtype, "t_last": int64(0), "db": st.res.db}
		if !st.inTx {
			meta["bookmark"] = c.sim.bookmark()
		}
		c.success(meta)
	case msgBegin:
		if c.inTx {
			c.failure(&cypherError{code: CodeRequestInvalid, msg: "Nested transactions are not supported."})
			return
		}
		extra := asMap(field(0))
		c.txDB, _ = extra["db"].(string)
		if c.txDB == "" {
			c.txDB = c.sim.defaultDB
		}
		c.inTx, c.streams, c.nextQid = true, nil, 0
		c.success(map[string]any{})
	case msgCommit:
		if !c.inTx {
			c.failure(&cypherError{code: CodeRequestInvalid, msg: "No current transaction to commit."})
			return
		}
		c.inTx, c.streams = false, nil
		c.success(map[string]any{"bookmark": c.sim.bookmark()})
	case msgRollback:
		if !c.inTx {
			c.failure(&cypherError{code: CodeRequestInvalid, msg: "No current transaction to rollback."})
			return
		}
		c.inTx, c.streams = false, nil
		c.success(map[string]any{})
	case msgRoute:
		extra := asMap(field(2))
		db, _ := extra["db"].(string)
		rt, err := c.sim.routingTable(db)
		if err != nil {
			c.failure(err)
			return
		}
		c.success(map[string]any{"rt": rt})
	default:
		c.failure(&cypherError{code: CodeRequestInvalid, msg: fmt.Sprintf("Message 0x%02X is not supported", tag)})
	}
}

func (s *Simulator) bookmark() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bookmarkSeq++
	return fmt.Sprintf("FB:neo4jsim:%d", s.bookmarkSeq)
}

// routingTable answers ROUTE: every available server routes, the database
// leader writes (the system leader for system), the other hosts read.
func (s *Simulator) routingTable(db string) (map[string]any, *cypherError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if db == "" {
		db = s.defaultDB
	}
	var routers, readers, writers []string
	for _, srv := range s.servers {
		if srv.available && srv.state != StateDropped {
			routers = append(routers, srv.listen)
		}
	}
	if s.community {
		readers, writers = routers, routers
	} else if db == "system" {
		for _, srv := range s.servers {
			if !srv.available || srv.state == StateDropped {
				continue
			}
			if srv.id == s.sysLeader {
				writers = append(writers, srv.listen)
			} else {
				readers = append(readers, srv.listen)
			}
		}
	} else {
		d := s.dbs[db]
		if d == nil {
			return nil, &cypherError{code: CodeDatabaseNotFound, msg: fmt.Sprintf("Database does not exist. Database name: '%s'.", db)}
		}
		for _, a := range d.allocs {
			srv := s.serverByID(a.server)
			if srv == nil || !srv.available {
				continue
			}
			if a.server == d.leader && !d.stopped {
				writers = append(writers, srv.listen)
			} else {
				readers = append(readers, srv.listen)
			}
		}
	}
	if len(readers) == 0 {
		readers = writers
	}
	var servers []any
	servers = append(servers, map[string]any{"role": "ROUTE", "addresses": strList(routers)})
	servers = append(servers, map[string]any{"role": "READ", "addresses": strList(readers)})
	if len(writers) > 0 {
		servers = append(servers, map[string]any{"role": "WRITE", "addresses": strList(writers)})
	}
	return map[string]any{"ttl": int64(300), "db": db, "servers": servers}, nil
}
