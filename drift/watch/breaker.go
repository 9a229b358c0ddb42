package watch

import (
	"sync"
	"time"
)

// CircuitState is the state of a Breaker; its numeric value is what the
// neo4jctl_circuit_state metric exports.
type CircuitState int

// Breaker states.
const (
	// CircuitClosed lets every call through.
	CircuitClosed CircuitState = 0
	// CircuitHalfOpen lets one trial call through after the cooldown.
	CircuitHalfOpen CircuitState = 1
	// CircuitOpen refuses calls until the cooldown has passed.
	CircuitOpen CircuitState = 2
)

func (s CircuitState) String() string {
	switch s {
	case CircuitHalfOpen:
		return "half-open"
	case CircuitOpen:
		return "open"
	}
	return "closed"
}

// Breaker is a circuit breaker around one Neo4j endpoint: after Failures
// consecutive failures it opens and refuses calls, so an unreachable
// cluster costs one failed dial per Cooldown instead of one per poll (each
// dial may wait for a connect timeout and, outside the cluster, open
// port-forwards through the API server). After the cooldown one trial call
// is let through (half-open); its outcome closes or reopens the circuit.
type Breaker struct {
	// Failures is how many consecutive failures open the circuit (default 3).
	Failures int
	// Cooldown is how long the circuit stays open (default 30 s).
	Cooldown time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	state    CircuitState
	failed   int
	openedAt time.Time
}

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Breaker) limits() (int, time.Duration) {
	n, d := b.Failures, b.Cooldown
	if n <= 0 {
		n = 3
	}
	if d <= 0 {
		d = 30 * time.Second
	}
	return n, d
}

// Allow reports whether a call may be made now. An open circuit whose
// cooldown has passed turns half-open and allows exactly one call.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, cooldown := b.limits()
	switch b.state {
	case CircuitOpen:
		if b.now().Sub(b.openedAt) < cooldown {
			return false
		}
		b.state = CircuitHalfOpen
		return true
	case CircuitHalfOpen:
		// The trial call is in flight (or its outcome not yet recorded).
		return false
	}
	return true
}

// Record reports the outcome of an allowed call.
func (b *Breaker) Record(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit, _ := b.limits()
	if err == nil {
		b.state, b.failed = CircuitClosed, 0
		return
	}
	b.failed++
	if b.state == CircuitHalfOpen || b.failed >= limit {
		b.state, b.openedAt = CircuitOpen, b.now()
	}
}

// State returns the current state.
func (b *Breaker) State() CircuitState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Backoff is the retry interval after consecutive failed reconciles:
// Base·2^(n-1), capped at Max, so a cluster that keeps failing is retried
// quickly at first and then no more than once per Max.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Delay is the wait after the n-th consecutive failure (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = time.Second
	}
	if max <= 0 {
		max = 5 * time.Minute
	}
	d := base
	for i := 1; i < n; i++ {
		d *= 2
		if d >= max {
			return max
		}
	}
	if d > max {
		return max
	}
	return d
}

// Jitter returns d moved by up to ±frac of itself, using r in [0,1). The
// Neo4j plane of many clusters (or replicas) is then not polled in lockstep.
func Jitter(d time.Duration, frac, r float64) time.Duration {
	return time.Duration(float64(d) * (1 + frac*(2*r-1)))
}
