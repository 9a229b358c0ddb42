package catalog

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
)

// memStore is a small honest in-memory Store: PutIfAbsent is atomic and
// refuses an existing key, as blob's IfNotExist write is. overwrite makes it
// dishonest (a plain put), to show the tests notice.
type memStore struct {
	mu        sync.Mutex
	objs      map[string][]byte
	overwrite bool
	// beforePut runs outside the lock before every put: tests use it to make
	// writers interleave.
	beforePut func(key string)
	refused   int
}

type memObject struct {
	Key  string
	Size int64
}

var errMemExists = errors.New("mem: object exists")
var errMemNotFound = errors.New("mem: no such object")

func newMem() *memStore { return &memStore{objs: map[string][]byte{}} }

func (m *memStore) PutIfAbsent(_ context.Context, key string, data []byte) error {
	if m.beforePut != nil {
		m.beforePut(key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[key]; ok && !m.overwrite {
		m.refused++
		return errMemExists
	}
	m.objs[key] = append([]byte(nil), data...)
	return nil
}

func (m *memStore) Read(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.objs[key]
	if !ok {
		return nil, errMemNotFound
	}
	return append([]byte(nil), d...), nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]memObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []memObject
	for k, v := range m.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, memObject{k, int64(len(v))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[key]; !ok {
		return errMemNotFound
	}
	delete(m.objs, key)
	return nil
}

func (m *memStore) keys() []string {
	objs, _ := m.List(context.Background(), "")
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

func newCatalog(m *memStore, opts Options) *Catalog {
	opts.IsExists = func(err error) bool { return errors.Is(err, errMemExists) }
	opts.IsNotFound = func(err error) bool { return errors.Is(err, errMemNotFound) }
	return New[memObject](m, func(o memObject) string { return o.Key }, opts)
}
