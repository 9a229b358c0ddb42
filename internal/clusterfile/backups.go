package clusterfile

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	// The schedules' time zones are checked against the IANA database
	// compiled in, so that validate gives the same answer on a machine
	// (or a distroless image) without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Backup defaults.
const (
	// DefaultKeysetKey is the Secret key of the Tink keyset.
	DefaultKeysetKey = "keyset.json"
	// DefaultBackupDatabases backs up every database, system included:
	// neo4j-admin database backup reads "*" as all databases of the DBMS
	// (Operations Manual, backup-restore/online-backup.adoc, Parameters).
	DefaultBackupDatabases = "*"
	// DefaultBackupTimeZone is the zone schedules are read in.
	DefaultBackupTimeZone = "UTC"
)

// StorageSchemes are the storage URL schemes, one per gocloud.dev/blob
// driver neo4jctl links.
var StorageSchemes = []string{"s3", "gs", "azblob", "file"}

// KMSPrefixes are the KMS key URIs Tink's KMS extensions accept.
var KMSPrefixes = []string{"aws-kms://", "gcp-kms://"}

func defaultBackups(b *Backups) {
	if b == nil {
		return
	}
	if b.Schedule != nil {
		if len(b.Schedule.Databases) == 0 {
			b.Schedule.Databases = []string{DefaultBackupDatabases}
		}
		if b.Schedule.Compress == nil {
			// neo4j-admin's own default (online-backup.adoc, Options:
			// --compress, default true).
			on := true
			b.Schedule.Compress = &on
		}
		defaultString(&b.Schedule.TimeZone, DefaultBackupTimeZone)
	}
	defaultString(&b.Encryption.KeysetSecret.Key, DefaultKeysetKey)
}

// RetentionPolicy is the retention that applies to one database, with
// the ages parsed. A nil count means the policy does not keep by that
// period; MinAge or MaxAge zero means unset.
type RetentionPolicy struct {
	Daily, Weekly, Monthly, Yearly *int32
	MinAge, MaxAge                 time.Duration
}

// For returns the policy of database db: the overrides of its entry in
// Databases over the top-level fields. The retention must be valid.
func (r *BackupRetention) For(db string) RetentionPolicy {
	p := RetentionPolicy{Daily: r.Daily, Weekly: r.Weekly, Monthly: r.Monthly, Yearly: r.Yearly}
	p.MinAge, _ = ParseAge(r.MinAge)
	p.MaxAge, _ = ParseAge(r.MaxAge)
	for _, o := range r.Databases {
		if o.Name != db {
			continue
		}
		for _, f := range []struct{ dst, src **int32 }{{&p.Daily, &o.Daily}, {&p.Weekly, &o.Weekly}, {&p.Monthly, &o.Monthly}, {&p.Yearly, &o.Yearly}} {
			if *f.src != nil {
				*f.dst = *f.src
			}
		}
		if o.MinAge != "" {
			p.MinAge, _ = ParseAge(o.MinAge)
		}
		if o.MaxAge != "" {
			p.MaxAge, _ = ParseAge(o.MaxAge)
		}
	}
	return p
}

var ageTerm = newLazyRegexp(`([0-9]+)(ms|s|m|h|d|w|y)`)

// ParseAge parses a duration written with the units people use for
// retention: s, m, h, d (24h), w (7d) and y (365d), combinable ("1d12h").
func ParseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if strings.TrimSpace(ageTerm.ReplaceAllString(s, "")) != "" || !ageTerm.MatchString(s) {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	var total time.Duration
	for _, m := range ageTerm.FindAllStringSubmatch(s, -1) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > int64(200*365*24*time.Hour/units[m[2]]) {
			return 0, fmt.Errorf("%q is too long", s)
		}
		total += time.Duration(n) * units[m[2]]
	}
	return total, nil
}

// cronParser reads schedules as Kubernetes CronJobs do: five fields or a
// descriptor such as @daily.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron schedule as spec.backups writes it. @every
// and a TZ= prefix are refused: a CronJob does not take @every, and its
// time zone is spec.backups.schedule.timeZone.
func ParseSchedule(s string) (cron.Schedule, error) {
	switch t := strings.TrimSpace(s); {
	case strings.HasPrefix(t, "@every"):
		return nil, fmt.Errorf("@every is not a CronJob schedule")
	case strings.HasPrefix(t, "TZ=") || strings.HasPrefix(t, "CRON_TZ="):
		return nil, fmt.Errorf("a time zone prefix is not allowed in the schedule")
	}
	return cronParser.Parse(s)
}

const cronFix = `five fields, minute hour day-of-month month day-of-week, e.g. "0 2 * * *", or @hourly, @daily, @weekly, @monthly`

func (v *validator) cron(path, s string) {
	if s == "" {
		return
	}
	if _, err := ParseSchedule(s); err != nil {
		fix := cronFix
		if strings.Contains(s, "TZ=") {
			fix = "remove the prefix and set spec.backups.schedule.timeZone"
		}
		v.add(path, fmt.Sprintf("%q is not a cron schedule: %v", s, err), fix)
	}
}

func (v *validator) age(path, s string) time.Duration {
	d, err := ParseAge(s)
	if err != nil {
		v.add(path, err.Error(), `a duration in m, h, d, w or y, e.g. "30m", "7d" or "1y"`)
	}
	return d
}

func (v *validator) backups(b *Backups, community bool) {
	if b == nil {
		return
	}
	const p = "spec.backups"
	v.location(p+".storage", b.Storage)
	seen := map[string]int{}
	for i, c := range b.Copies {
		cp := fmt.Sprintf("%s.copies[%d]", p, i)
		v.location(cp, c)
		switch first, dup := seen[c.URL]; {
		case c.URL == "":
		case c.URL == b.Storage.URL:
			v.add(cp+".url", "is spec.backups.storage itself", "name another bucket, ideally in another region")
		case dup:
			v.add(cp+".url", fmt.Sprintf("duplicate copy (also %s.copies[%d])", p, first), "list each bucket once")
		default:
			seen[c.URL] = i
		}
	}
	v.schedule(b.Schedule, community)
	v.retention(b.Retention)
	v.encryption(&b.Encryption)
	if cv := b.ChainVolume; cv != nil {
		if q := v.quantity(p+".chainVolume.size", cv.Size); q != nil && q.Cmp(resource.MustParse("1Mi")) < 0 {
			v.add(p+".chainVolume.size", fmt.Sprintf("%s is too small for a volume", cv.Size), `sizes are quantities with a unit, e.g. "50Gi"`)
		}
		if cv.StorageClassName != "" {
			v.dnsSubdomain(p+".chainVolume.storageClassName", cv.StorageClassName, "StorageClass")
		}
	}
	if o := b.Objectives; o != nil {
		v.age(p+".objectives.rpo", o.RPO)
		v.age(p+".objectives.rto", o.RTO)
	}
	if vf := b.Verification; vf != nil {
		v.cron(p+".verification.schedule", vf.Schedule)
	}
	if d := b.Drill; d != nil && v.required(p+".drill.schedule", d.Schedule, `a cron schedule, e.g. "0 5 * * 1" (Mondays 05:00), or remove spec.backups.drill`) {
		v.cron(p+".drill.schedule", d.Schedule)
	}
}

// credentialParams are query parameter names that carry a credential:
// S3 presigned URLs (X-Amz-Credential, X-Amz-Signature), Azure SAS
// tokens (sig), keys, tokens and passwords under any name.
var credentialParams = []string{"secret", "password", "passwd", "token", "sig", "signature", "credential", "key", "sas", "session"}

// credentialFix says where credentials go instead.
const credentialFix = "remove them from the URL: the cluster file, plans and logs would show them; store them in a Secret and name it in credentialsSecret, or set workloadIdentity: true"

func (v *validator) location(path string, l BackupLocation) {
	if !v.required(path+".url", l.URL, "e.g. s3://my-bucket/neo4j?region=eu-west-1, gs://my-bucket/neo4j, azblob://container/neo4j or file:///backups") {
		return
	}
	// The URL is never quoted back: it may hold the very credential
	// that is being refused.
	u, err := url.Parse(l.URL)
	if err != nil {
		v.add(path+".url", "is not a URL", "e.g. s3://my-bucket/neo4j?region=eu-west-1")
		return
	}
	if u.User != nil {
		v.add(path+".url", "holds credentials (user:password@)", credentialFix)
	}
	for _, name := range sortedQueryKeys(u.Query()) {
		lower := strings.ToLower(name)
		for _, w := range credentialParams {
			if strings.Contains(lower, w) {
				v.add(path+".url", fmt.Sprintf("query parameter %q looks like a credential", name), credentialFix)
				break
			}
		}
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		v.add(path+".url", "has no scheme", "start it with s3://, gs://, azblob:// or file:///")
		return
	case !slices.Contains(StorageSchemes, scheme):
		fix := "use s3://, gs://, azblob:// or file:///"
		switch scheme {
		case "azb", "azure", "wasb", "wasbs", "abfs", "abfss":
			fix = "write azblob://container/prefix"
		case "gcs":
			fix = "write gs://bucket/prefix"
		case "s3a", "s3n":
			fix = "write s3://bucket/prefix"
		case "http", "https":
			fix = "write the bucket as s3://bucket/prefix?endpoint=…, gs://bucket/prefix or azblob://container/prefix"
		}
		v.add(path+".url", fmt.Sprintf("unsupported scheme %q", u.Scheme), fix)
		return
	}
	anonymous := u.Query().Get("anonymous") == "true"
	if scheme == "file" {
		if (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") || u.Path == "/" {
			v.add(path+".url", "is not a file URL of an absolute directory", "write file:///absolute/path, with three slashes")
		}
		if l.CredentialsSecret != "" || l.WorkloadIdentity {
			v.add(path, "a file:// location takes no credentials", "remove credentialsSecret and workloadIdentity")
		}
		return
	}
	if u.Host == "" {
		v.add(path+".url", "names no bucket", fmt.Sprintf("e.g. %s://my-bucket/neo4j", scheme))
	}
	switch {
	case l.CredentialsSecret != "" && l.WorkloadIdentity:
		v.add(path, "sets both credentialsSecret and workloadIdentity", "keep one of them")
	case l.CredentialsSecret == "" && !l.WorkloadIdentity && !anonymous:
		v.add(path+".credentialsSecret", "required: neo4jctl takes credentials only from a Secret or the workload identity",
			"name the Secret holding the credentials, or set workloadIdentity: true")
	}
	if l.CredentialsSecret != "" {
		v.dnsSubdomain(path+".credentialsSecret", l.CredentialsSecret, "Secret")
	}
}

func sortedQueryKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// backupDatabaseName is a database name as neo4j-admin takes it: the
// names spec.databases allows, and system.
func validBackupDatabase(name string) bool {
	return name == "system" || databaseName.MatchString(name)
}

func (v *validator) schedule(s *BackupSchedule, community bool) {
	if s == nil {
		return
	}
	const p = "spec.backups.schedule"
	if community && (s.Full != "" || s.Differential != "") {
		v.add(p, "Neo4j Community has no online backup: a scheduled backup would stop the server",
			"remove schedule: a Community backup is an offline dump (neo4j-admin database dump, server stopped) handed to neo4jctl backup agent; or use edition: enterprise")
		return
	}
	switch {
	case s.Full == "" && s.Differential == "":
		v.add(p, "schedules nothing", `set full (and differential), e.g. full: "0 2 * * *"; or remove schedule`)
	case s.Full == "":
		v.add(p+".full", "required with differential: a differential extends the chain of a full backup", `e.g. full: "0 2 * * 0"`)
	}
	v.cron(p+".full", s.Full)
	v.cron(p+".differential", s.Differential)
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
			v.add(p+".timeZone", fmt.Sprintf("%q is not an IANA time zone", s.TimeZone), `e.g. "UTC" or "Europe/Berlin"`)
		}
	}
	seen := map[string]int{}
	for i, db := range s.Databases {
		dp := fmt.Sprintf("%s.databases[%d]", p, i)
		switch {
		case db == "*":
			if len(s.Databases) > 1 {
				v.add(dp, `"*" is every database`, `list "*" alone, or only names`)
			}
		case !validBackupDatabase(db):
			v.add(dp, fmt.Sprintf("%q is not a database name", db), `a database name such as neo4j or system, or "*" for all`)
		}
		if first, dup := seen[db]; dup {
			v.add(dp, fmt.Sprintf("duplicate database %q (also %s.databases[%d])", db, p, first), "list each database once")
		} else {
			seen[db] = i
		}
	}
}

func (v *validator) retention(r *BackupRetention) {
	if r == nil {
		return
	}
	const p = "spec.backups.retention"
	policy := func(path string, counts []*int32, minAge, maxAge string) bool {
		set := minAge != "" || maxAge != ""
		for i, c := range counts {
			if c == nil {
				continue
			}
			set = true
			if *c < 0 {
				v.add(path+"."+[]string{"daily", "weekly", "monthly", "yearly"}[i], fmt.Sprintf("must be at least 0, got %d", *c), "")
			}
		}
		minD, maxD := v.age(path+".minAge", minAge), v.age(path+".maxAge", maxAge)
		if minD > 0 && maxD > 0 && minD > maxD {
			v.add(path+".minAge", fmt.Sprintf("minAge %s is more than maxAge %s", minAge, maxAge), "swap them")
		}
		return set
	}
	if !policy(p, []*int32{r.Daily, r.Weekly, r.Monthly, r.Yearly}, r.MinAge, r.MaxAge) && len(r.Databases) == 0 {
		v.add(p, "keeps everything: no rule is set", "set daily, weekly, monthly, yearly, minAge or maxAge, or remove retention")
	}
	seen := map[string]int{}
	for i, o := range r.Databases {
		dp := fmt.Sprintf("%s.databases[%d]", p, i)
		if v.required(dp+".name", o.Name, "name the database, e.g. name: neo4j") {
			if !validBackupDatabase(o.Name) {
				v.add(dp+".name", fmt.Sprintf("%q is not a database name", o.Name), "a database name such as neo4j or system")
			}
			if first, dup := seen[o.Name]; dup {
				v.add(dp+".name", fmt.Sprintf("duplicate database %q (also %s.databases[%d])", o.Name, p, first), "list each database once")
			} else {
				seen[o.Name] = i
			}
		}
		if !policy(dp, []*int32{o.Daily, o.Weekly, o.Monthly, o.Yearly}, o.MinAge, o.MaxAge) {
			v.add(dp, "overrides nothing", "set daily, weekly, monthly, yearly, minAge or maxAge, or remove the entry")
		}
	}
	// The combined policy of each database must still be coherent when
	// one age comes from the override and the other from above (a pair
	// written in one place was judged there).
	for i, o := range r.Databases {
		if first, ok := seen[o.Name]; !ok || first != i || (o.MinAge == "") == (o.MaxAge == "") {
			continue
		}
		minAge, maxAge := cmp.Or(o.MinAge, r.MinAge), cmp.Or(o.MaxAge, r.MaxAge)
		minD, err1 := ParseAge(minAge)
		maxD, err2 := ParseAge(maxAge)
		if err1 == nil && err2 == nil && minD > 0 && maxD > 0 && minD > maxD {
			v.add(fmt.Sprintf("%s.databases[%d]", p, i), fmt.Sprintf("its minAge %s is more than its maxAge %s", minAge, maxAge), "set both ages for this database")
		}
	}
}

func (v *validator) encryption(e *BackupEncryption) {
	const p = "spec.backups.encryption"
	ks := e.KeysetSecret
	if v.required(p+".keysetSecret.name", ks.Name, "name the Secret holding the Tink keyset; neo4jctl backup keys rotate makes one") {
		v.dnsSubdomain(p+".keysetSecret.name", ks.Name, "Secret")
	}
	if ks.Key != "" {
		if errs := validation.IsConfigMapKey(ks.Key); len(errs) > 0 {
			v.add(p+".keysetSecret.key", fmt.Sprintf("%q is not a valid Secret key", ks.Key), "letters, digits, '-', '_' and '.'")
		}
	}
	if e.KMS != "" {
		ok := false
		for _, prefix := range KMSPrefixes {
			ok = ok || strings.HasPrefix(e.KMS, prefix) && len(e.KMS) > len(prefix)
		}
		if !ok {
			v.add(p+".kms", "is not a KMS key URI", "e.g. aws-kms://arn:aws:kms:eu-west-1:111122223333:key/… or gcp-kms://projects/…/locations/…/keyRings/…/cryptoKeys/…")
		}
	}
}
