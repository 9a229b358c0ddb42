package healthcheck

import (
	"fmt"
	"time"
)

// Check IDs of capacity and configuration.
const (
	IDMemory = "config.memory"
	IDTLS    = "config.tls"
)

// Certificate expiry thresholds from the issue.
const (
	certWarn = 21 * 24 * time.Hour
	certFail = 7 * 24 * time.Hour
)

// checkMemory: heap + page cache must fit in the container's memory limit.
// Neo4j also uses memory outside both (the JVM, network buffers,
// transaction state off heap), so they must fit with room to spare
// (Operations Manual, performance/memory-configuration); room of less than
// a tenth of the limit is a warning.
func checkMemory(in *Input) Check {
	c := Check{ID: IDMemory, Title: "Heap + page cache within the memory limit"}
	if len(in.Expected.Memory) == 0 {
		c.Status, c.Summary = Skip, "no pools"
		return c
	}
	var fails, warns, ok, unset []string
	for _, m := range in.Expected.Memory {
		if m.Limit == 0 || m.Heap == 0 || m.PageCache == 0 {
			unset = append(unset, fmt.Sprintf("%s: limit %s, heap %s, page cache %s", m.StatefulSet, size(m.Limit), size(m.Heap), size(m.PageCache)))
			continue
		}
		sum := m.Heap + m.PageCache
		line := fmt.Sprintf("%s: heap %s + page cache %s = %s of a %s limit", m.StatefulSet, size(m.Heap), size(m.PageCache), size(sum), size(m.Limit))
		switch {
		case sum >= m.Limit:
			fails = append(fails, line)
		case m.Limit-sum < m.Limit/10:
			warns = append(warns, line)
		default:
			ok = append(ok, line)
		}
	}
	switch {
	case len(fails) > 0:
		c.Status, c.Summary, c.Evidence = Fail, "heap + page cache cannot fit in the memory limit: the container will be OOMKilled", append(fails, warns...)
		c.Fix = "lower server.memory.heap.max_size / server.memory.pagecache.size in spec.config, or raise spec.resources.neo4j.limits.memory"
	case len(warns) > 0:
		c.Status, c.Summary, c.Evidence = Warn, "less than a tenth of the memory limit is left beyond heap + page cache", warns
		c.Fix = "leave room for the JVM and off-heap memory: lower the page cache or raise the limit"
	case len(unset) > 0:
		c.Status, c.Summary, c.Evidence = Skip, "no memory limit or no explicit heap and page cache to compare", unset
	default:
		c.Status, c.Summary, c.Evidence = Pass, "heap + page cache fit with room to spare", ok
	}
	return c
}

func size(b int64) string {
	if b == 0 {
		return "unset"
	}
	const mi = 1 << 20
	if b%(1<<30) == 0 {
		return fmt.Sprintf("%dGi", b>>30)
	}
	return fmt.Sprintf("%dMi", b/mi)
}

// checkTLS: the certificate in the cluster's TLS Secret (what cert-manager
// writes) must not be close to expiry.
func checkTLS(in *Input) Check {
	c := Check{ID: IDTLS, Title: "TLS certificate expiry"}
	switch {
	case in.Expected.TLSSecret == "":
		c.Status, c.Summary = Skip, "TLS is off in the cluster file"
		return c
	case in.CertificateErr != "":
		c.Status, c.Summary = Unknown, "could not read Secret "+in.Expected.TLSSecret+": "+in.CertificateErr
		c.Fix = "check that cert-manager issued it (kubectl -n " + in.Expected.Namespace + " get certificate)"
		return c
	case len(in.Certificates) == 0:
		c.Status, c.Summary = Fail, "Secret "+in.Expected.TLSSecret+" holds no certificate"
		c.Fix = "check that cert-manager issued it (kubectl -n " + in.Expected.Namespace + " describe certificate)"
		return c
	}
	c.Status = Pass
	for _, cert := range in.Certificates {
		left := cert.NotAfter.Sub(in.Now)
		line := fmt.Sprintf("%s: %s expires %s (in %s)", cert.Secret, cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339), days(left))
		st := Pass
		switch {
		case left < certFail:
			st = Fail
		case left < certWarn:
			st = Warn
		}
		if st.Worse(c.Status) {
			c.Status = st
		}
		c.Evidence = append(c.Evidence, line)
	}
	switch c.Status {
	case Fail:
		c.Summary = "the certificate expires in less than 7 days"
		c.Fix = "check why cert-manager did not renew it (kubectl -n " + in.Expected.Namespace + " describe certificate)"
	case Warn:
		c.Summary = "the certificate expires in less than 21 days"
		c.Fix = "cert-manager renews at two thirds of the lifetime by default: check the Certificate's renewBefore and its status"
	default:
		c.Summary = "the certificate is valid for 21 days or more"
	}
	return c
}

func days(d time.Duration) string {
	if d < 0 {
		return "expired"
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}
