package blob

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/googleapis/gax-go/v2"
	gblob "gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"
)

// Credential keys: the names of a Secret's data keys Open understands. Any
// other key is an error (a typo would otherwise fall back to the default
// chain silently).
const (
	KeyAWSAccessKeyID     = "AWS_ACCESS_KEY_ID"
	KeyAWSSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	KeyAWSSessionToken    = "AWS_SESSION_TOKEN"
	KeyGoogleCredentials  = "GOOGLE_CREDENTIALS_JSON" // a service-account key file's content
	KeyAzureAccount       = "AZURE_STORAGE_ACCOUNT"
	KeyAzureKey           = "AZURE_STORAGE_KEY"
	KeyAzureSASToken      = "AZURE_STORAGE_SAS_TOKEN"
	KeyAzureConnString    = "AZURE_STORAGE_CONNECTION_STRING"
)

var knownKeys = map[string]map[string]bool{
	"s3":     {KeyAWSAccessKeyID: true, KeyAWSSecretAccessKey: true, KeyAWSSessionToken: true},
	"gs":     {KeyGoogleCredentials: true},
	"azblob": {KeyAzureAccount: true, KeyAzureKey: true, KeyAzureSASToken: true, KeyAzureConnString: true},
	"file":   {},
}

// Attempt is one failed try of an operation, as reported to Options.Report.
type Attempt struct {
	Op    string // "upload", "read", ...
	Key   string // the object key (without the URL's prefix)
	N     int    // 1-based attempt number
	Of    int    // attempts allowed
	Err   error  // the cause, already redacted
	Retry bool   // whether another attempt follows
	Wait  time.Duration
}

// String is the line printed for an attempt: "attempt n/N: <cause>".
func (a Attempt) String() string {
	s := fmt.Sprintf("attempt %d/%d: %s %s: %v", a.N, a.Of, a.Op, a.Key, a.Err)
	switch {
	case a.Retry:
		s += fmt.Sprintf(" (retrying in %s)", a.Wait.Round(time.Millisecond))
	case a.N < a.Of:
		s += " (permanent: not retried)"
	}
	return s
}

// Defaults of Options.PartSize and Options.Concurrency.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 2
)

// Options configures Open. The zero value is usable.
type Options struct {
	// Attempts is how many times an operation is tried (default 5).
	Attempts int
	// BaseBackoff is the first retry's backoff ceiling (default 1 s); it
	// doubles per attempt, full jitter, capped at MaxBackoff.
	BaseBackoff time.Duration
	// MaxBackoff caps one backoff (default 30 s). It also caps the SDKs'
	// own retry backoff.
	MaxBackoff time.Duration
	// Report receives every failed attempt (nil: not reported).
	Report func(Attempt)
	// Credentials is a Secret's data (see the Key* constants). Empty: the
	// provider's default chain (workload identity, instance roles).
	Credentials map[string][]byte
	// PartSize is the multipart part size for uploads (default 8 MiB).
	// Memory held by an upload is about PartSize × (Concurrency+1); S3
	// allows 10 000 parts, so a source of unknown size is limited to
	// about 80 GB at the default. A source that reports its size (an
	// io.Reader with Size() int64, such as *bytes.Reader or
	// *io.SectionReader, or a ReadCloser from UploadFrom that has it — the
	// agent's ciphertext length is known in advance) gets parts large
	// enough for that size.
	PartSize int
	// Concurrency is how many parts upload at once (default 2).
	Concurrency int
	// HTTPClient replaces the HTTP client of the S3, GCS and Azure drivers
	// (nil: the SDK default). Tests use it to bound slow responses.
	HTTPClient *http.Client
	// sleep replaces time.Sleep-with-context in unit tests.
	sleep func(context.Context, time.Duration) error
}

func (o Options) withDefaults() Options {
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.PartSize <= 0 {
		o.PartSize = DefaultPartSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.sleep == nil {
		o.sleep = sleepCtx
	}
	return o
}

// Bucket is an opened storage location. Its methods are safe for concurrent use.
type Bucket struct {
	b      *gblob.Bucket // prefixed
	url    string        // redacted, for messages
	scheme string
	s3     *s3.Client // S3 only: to configure each upload's transfer manager
	opts   Options
	red    redactor
}

// Open opens the storage URL. It does not contact the storage service: a
// missing bucket or bad credentials surface on the first operation (as a
// permanent error, not retried).
func Open(ctx context.Context, rawURL string, opts Options) (*Bucket, error) {
	opts = opts.withDefaults()
	var secrets []string
	keys := make([]string, 0, len(opts.Credentials))
	for k, v := range opts.Credentials {
		keys = append(keys, k)
		secrets = append(secrets, string(v))
	}
	sort.Strings(keys)
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the whole input: redact it like any other text.
		return nil, fmt.Errorf("storage URL: %w", newRedactor(secrets...).err(err))
	}
	if u.User != nil {
		// Userinfo in a storage URL is a credential in the cluster file:
		// refuse it, and never echo it.
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
		secrets = append(secrets, u.User.Username())
		u.User = nil
		return nil, fmt.Errorf("storage URL %s: credentials in the URL are not accepted (put them in the Secret the backup spec references)", redactURL(u))
	}
	red := newRedactor(secrets...)
	allowed, ok := knownKeys[u.Scheme]
	if !ok {
		return nil, fmt.Errorf("storage URL %s: unsupported scheme %q (use s3://, gs://, azblob:// or file:///)", redactURL(u), u.Scheme)
	}
	for _, k := range keys {
		if !allowed[k] {
			return nil, fmt.Errorf("storage URL %s: credential key %q is not used by %s:// (known: %s)", redactURL(u), k, u.Scheme, strings.Join(sortedKeys(allowed), ", "))
		}
	}
	if u.Scheme != "file" && u.Host == "" {
		return nil, fmt.Errorf("storage URL %s: no bucket name (%s://BUCKET/prefix)", redactURL(u), u.Scheme)
	}
	prefix := strings.Trim(u.Path, "/")
	var b *gblob.Bucket
	var s3c *s3.Client
	switch u.Scheme {
	case "s3":
		b, s3c, err = openS3(ctx, u, opts)
	case "gs":
		b, err = openGCS(ctx, u, opts)
	case "azblob":
		b, err = openAzure(u, opts)
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("storage URL %s: a file URL has no host (file:///absolute/path)", redactURL(u))
		}
		prefix = ""
		b, err = fileblob.OpenBucket(u.Path, &fileblob.Options{})
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redactURL(u), red.err(err))
	}
	if prefix != "" {
		b = gblob.PrefixedBucket(b, prefix+"/")
	}
	return &Bucket{b: b, url: redactURL(u), scheme: u.Scheme, s3: s3c, opts: opts, red: red}, nil
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// redactURL prints a URL without userinfo; the query carries no secrets
// (Open accepts none there) but signature-like parameters are dropped anyway.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "sig") || strings.Contains(lk, "key") || strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "password") {
			q.Set(k, "REDACTED")
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// URL returns the storage URL without secrets.
func (b *Bucket) URL() string { return b.url }

// Close releases the driver's resources.
func (b *Bucket) Close() error { return b.red.err(b.b.Close()) }

func query(u *url.URL, allowed ...string) (url.Values, error) {
	q := u.Query()
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for k := range q {
		if !ok[k] {
			return nil, fmt.Errorf("unknown query parameter %q (known: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return q, nil
}

func openS3(ctx context.Context, u *url.URL, opts Options) (*gblob.Bucket, *s3.Client, error) {
	q, err := query(u, "region", "endpoint", "use_path_style")
	if err != nil {
		return nil, nil, err
	}
	loadOpts := []func(*awsconfig.LoadOptions) error{
		// Credentials come from the caller only: never the shared config
		// files of whoever runs the process, unless it is the default chain.
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = opts.MaxBackoff })
		}),
	}
	if r := q.Get("region"); r != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(r))
	}
	id, secret := string(opts.Credentials[KeyAWSAccessKeyID]), string(opts.Credentials[KeyAWSSecretAccessKey])
	if (id == "") != (secret == "") {
		return nil, nil, fmt.Errorf("credentials: %s and %s go together", KeyAWSAccessKeyID, KeyAWSSecretAccessKey)
	}
	if id != "" {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(
			awscreds.NewStaticCredentialsProvider(id, secret, string(opts.Credentials[KeyAWSSessionToken]))))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, nil, err
	}
	endpoint := q.Get("endpoint")
	if cfg.Region == "" {
		if endpoint == "" {
			// AWS answers a request sent to the wrong region with a 301,
			// which the driver reports as "not found": ask instead.
			return nil, nil, fmt.Errorf("no region: add ?region= to the s3:// URL (or set AWS_REGION where the agent runs)")
		}
		cfg.Region = "us-east-1" // S3-compatible servers mostly ignore it
	}
	// Third-party S3 servers (and versitygw) reject the SDK's default
	// trailing CRC checksums on streamed bodies; send them only when required.
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	pathStyle := endpoint != "" // custom endpoints are S3-compatible servers: path style by default
	if v := q.Get("use_path_style"); v != "" {
		pathStyle = v == "true"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		if opts.HTTPClient != nil {
			// Set on the client, not the loaded config: the config wraps
			// its HTTP client for AWS_CA_BUNDLE, which a plain
			// *http.Client cannot take.
			o.HTTPClient = opts.HTTPClient
		}
	})
	b, err := s3blob.OpenBucket(ctx, client, u.Host, &s3blob.Options{RequestChecksumCalculation: cfg.RequestChecksumCalculation})
	return b, client, err
}

func openGCS(ctx context.Context, u *url.URL, opts Options) (*gblob.Bucket, error) {
	q, err := query(u, "endpoint")
	if err != nil {
		return nil, err
	}
	endpoint := q.Get("endpoint")
	var ts oauth2.TokenSource
	switch js := opts.Credentials[KeyGoogleCredentials]; {
	case len(js) > 0:
		creds, err := google.CredentialsFromJSON(ctx, js, "https://www.googleapis.com/auth/devstorage.read_write")
		if err != nil {
			// The JSON parser's message can quote the input: say only what failed.
			return nil, fmt.Errorf("credentials: %s is not a Google service-account key", KeyGoogleCredentials)
		}
		ts = creds.TokenSource
	case endpoint != "":
		// An emulator endpoint without a key: no authentication.
	default:
		creds, err := gcp.DefaultCredentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("credentials: no %s given and no default Google credentials: %w", KeyGoogleCredentials, err)
		}
		ts = creds.TokenSource
	}
	// One HTTP client carrying both the caller's settings (timeouts) and
	// the token source: option.WithHTTPClient would otherwise drop the auth.
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		*hc = *opts.HTTPClient
	}
	copts := []option.ClientOption{}
	if ts != nil {
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Transport = &oauth2.Transport{Source: ts, Base: base}
	}
	copts = append(copts, option.WithHTTPClient(hc))
	if endpoint != "" {
		copts = append(copts, option.WithEndpoint(strings.TrimSuffix(endpoint, "/")+"/storage/v1/"))
	}
	client, err := storage.NewClient(ctx, copts...)
	if err != nil {
		return nil, err
	}
	// The client's own retries: three tries per request like the other
	// SDKs, its backoff from our base and cap (its defaults start at 1 s
	// and are not injectable, which would make the fault tests slow).
	client.SetRetry(storage.WithMaxAttempts(3), storage.WithBackoff(gax.Backoff{
		Initial: opts.BaseBackoff, Max: opts.MaxBackoff, Multiplier: 2,
	}))
	return gcsblob.OpenBucket(ctx, nil, u.Host, &gcsblob.Options{Client: client})
}

func openAzure(u *url.URL, opts Options) (*gblob.Bucket, error) {
	q, err := query(u, "account", "endpoint")
	if err != nil {
		return nil, err
	}
	c := opts.Credentials
	account := q.Get("account")
	if a := string(c[KeyAzureAccount]); a != "" {
		if account != "" && account != a {
			return nil, fmt.Errorf("account %q in the URL differs from %s in the credentials", account, KeyAzureAccount)
		}
		account = a
	}
	endpoint := strings.TrimSuffix(q.Get("endpoint"), "/")
	if endpoint == "" {
		if account == "" && len(c[KeyAzureConnString]) == 0 {
			return nil, fmt.Errorf("no storage account: set ?account= or %s", KeyAzureAccount)
		}
		endpoint = "https://" + account + ".blob.core.windows.net"
	}
	copts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetryDelay: opts.MaxBackoff},
	}}
	if opts.HTTPClient != nil {
		copts.Transport = opts.HTTPClient
	}
	containerURL := endpoint + "/" + u.Host
	var client *container.Client
	switch {
	case len(c[KeyAzureConnString]) > 0:
		client, err = container.NewClientFromConnectionString(string(c[KeyAzureConnString]), u.Host, copts)
	case len(c[KeyAzureKey]) > 0:
		if account == "" {
			return nil, fmt.Errorf("%s needs the account name (?account= or %s)", KeyAzureKey, KeyAzureAccount)
		}
		var cred *azblob.SharedKeyCredential
		cred, err = azblob.NewSharedKeyCredential(account, string(c[KeyAzureKey]))
		if err == nil {
			client, err = container.NewClientWithSharedKeyCredential(containerURL, cred, copts)
		}
	case len(c[KeyAzureSASToken]) > 0:
		client, err = container.NewClientWithNoCredential(containerURL+"?"+strings.TrimPrefix(string(c[KeyAzureSASToken]), "?"), copts)
	default:
		var cred *azidentity.DefaultAzureCredential
		cred, err = azidentity.NewDefaultAzureCredential(nil)
		if err == nil {
			client, err = container.NewClient(containerURL, cred, copts)
		}
	}
	if err != nil {
		return nil, err
	}
	return azureblob.OpenBucket(context.Background(), client, nil)
}
