package kmsclient

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go-gcpkms/v2/integration/gcpkms"
	"google.golang.org/api/option"

	"github.com/neo4jctl/neo4jctl/backup/crypt"
)

// URI prefixes of the supported KMS keys (internal/clusterfile.KMSPrefixes).
const (
	AWSPrefix = "aws-kms://"
	GCPPrefix = "gcp-kms://"
)

// Open returns the AEAD of the KMS key uri. It contacts nothing: a missing
// key, missing credentials or a denied call surface on the first Encrypt
// or Decrypt, as an error that Explain makes actionable.
func Open(ctx context.Context, uri string) (crypt.KMS, error) {
	switch {
	case strings.HasPrefix(uri, AWSPrefix):
		return openAWS(ctx, uri)
	case strings.HasPrefix(uri, GCPPrefix):
		return openGCP(ctx, uri)
	default:
		return nil, fmt.Errorf("spec.backups.encryption.kms: %q is not an aws-kms:// or gcp-kms:// key URI", uri)
	}
}

// openAWS uses the AWS SDK's default configuration: the region is the
// key ARN's, credentials and endpoint come from the default chain
// (AWS_ENDPOINT_URL_KMS overrides the endpoint, as for every AWS client).
// The keyset's associated data goes to KMS as the encryption context
// "associatedData" (Tink's current name).
func openAWS(ctx context.Context, uri string) (crypt.KMS, error) {
	c, err := awskms.NewClientWithOptions(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("spec.backups.encryption.kms: AWS KMS key %s: %w", uri, err)
	}
	a, err := c.GetAEAD(uri)
	if err != nil {
		return nil, fmt.Errorf("spec.backups.encryption.kms: AWS KMS key %s: %w", uri, err)
	}
	return &explained{aead: a, uri: uri, provider: "AWS KMS"}, nil
}

// openGCP uses Cloud KMS over REST (one HTTPS client, no gRPC channel) with
// Application Default Credentials.
func openGCP(ctx context.Context, uri string, opts ...option.ClientOption) (crypt.KMS, error) {
	c, err := gcpkms.NewClient(ctx, uri, gcpkms.WithTransport(gcpkms.TransportREST), gcpkms.WithGoogleAPIClientOptions(opts...))
	if err != nil {
		return nil, fmt.Errorf("spec.backups.encryption.kms: Cloud KMS key %s: %w (credentials come from Application Default Credentials: GKE workload identity or GOOGLE_APPLICATION_CREDENTIALS)", uri, err)
	}
	a, err := c.GetAEAD(uri)
	if err != nil {
		return nil, fmt.Errorf("spec.backups.encryption.kms: Cloud KMS key %s: %w", uri, err)
	}
	return &explained{aead: a, uri: uri, provider: "Cloud KMS"}, nil
}

// explained wraps a KMS AEAD so that its failures name the key and say
// what to check. Tink's keyset layer replaces them with its own message, so
// the last one is kept: crypt asks for it (Cause) to report it.
type explained struct {
	aead     crypt.KMS
	uri      string
	provider string

	mu   sync.Mutex
	last error
}

func (e *explained) fail(err error) error {
	e.mu.Lock()
	e.last = err
	e.mu.Unlock()
	return err
}

func (e *explained) Encrypt(pt, ad []byte) ([]byte, error) {
	ct, err := e.aead.Encrypt(pt, ad)
	if err != nil {
		return nil, e.fail(e.explain("encrypt (wrap) the keyset", err))
	}
	return ct, nil
}

func (e *explained) Decrypt(ct, ad []byte) ([]byte, error) {
	pt, err := e.aead.Decrypt(ct, ad)
	if err != nil {
		return nil, e.fail(e.explain("decrypt (unwrap) the keyset", err))
	}
	return pt, nil
}

// Cause is the last KMS failure, explained (nil if none).
func (e *explained) Cause() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

func (e *explained) explain(op string, err error) error {
	msg := err.Error()
	hint := "check that the key exists, that this process's identity may use it, and the network path to " + e.provider
	switch {
	case strings.Contains(msg, "NotFoundException") || strings.Contains(msg, "notFound") || strings.Contains(msg, "Error 404"):
		hint = "the key does not exist (or this identity cannot see it): check the URI in spec.backups.encryption.kms"
	case strings.Contains(msg, "AccessDenied") || strings.Contains(msg, "Error 403") || strings.Contains(msg, "PERMISSION_DENIED"):
		hint = "this identity may not use the key: grant it encrypt/decrypt on the key"
	case strings.Contains(msg, "InvalidCiphertextException") || strings.Contains(msg, "IncorrectKeyException") || strings.Contains(msg, "Error 400"):
		hint = "the keyset was wrapped by another KMS key, or with other associated data"
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "could not find default credentials") || strings.Contains(msg, "no EC2 IMDS role found"):
		hint = "no credentials for " + e.provider + ": use workload identity, or give the provider's credentials to the process's environment"
	case strings.Contains(msg, "KMSDisabledException") || strings.Contains(msg, "DISABLED"):
		hint = "the key is disabled: enable it"
	}
	return fmt.Errorf("%s key %s: could not %s: %s (%w)", e.provider, e.uri, op, hint, err)
}
