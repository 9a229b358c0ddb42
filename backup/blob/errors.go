package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/smithy-go"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"
)

var (
	// ErrExists is returned by PutIfAbsent when the key is already present.
	ErrExists = errors.New("object already exists")
	// ErrNotFound is returned when a key (or the bucket) does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrDigest is returned by CopyTo when the destination's bytes do not
	// hash to the source's digest.
	ErrDigest = errors.New("digest mismatch")
)

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err is one no retry can fix: denied or invalid
// credentials, a missing bucket or key, an existing object, a bad request,
// a cancelled context.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var p *permanentError
	if errors.As(err, &p) {
		return true
	}
	return classify(err) == permanent
}

type class int

const (
	transient class = iota
	permanent
)

// permanentCodes are the provider error codes that mean "this request will
// fail the same way again". The SDKs map some of them (S3's
// InvalidAccessKeyId, SignatureDoesNotMatch) to gcerrors.Unknown, so they are
// checked by name as well as through the HTTP status.
var permanentCodes = map[string]bool{
	"AccessDenied": true, "Forbidden": true, "InvalidAccessKeyId": true,
	"SignatureDoesNotMatch": true, "NoSuchBucket": true, "NoSuchKey": true,
	"NotFound": true, "PreconditionFailed": true, "InvalidBucketName": true,
	"AuthenticationFailed": true, "AuthorizationFailure": true,
	"ContainerNotFound": true, "BlobNotFound": true, "InvalidAuthenticationInfo": true,
	"AuthorizationPermissionMismatch": true, "InvalidArgument": true,
	"BucketAlreadyExists": true, "BlobAlreadyExists": true, "ConditionNotMet": true,
}

// classify decides whether an error is worth another attempt. HTTP status
// first (the common ground of all providers), then provider codes, then the
// portable gcerrors code.
func classify(err error) class {
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrExists) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDigest) {
		return permanent
	}
	if errors.Is(err, storage.ErrBucketNotExist) || errors.Is(err, storage.ErrObjectNotExist) {
		return permanent
	}
	if status := httpStatus(err); status != 0 {
		switch {
		case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
			return transient
		case status == http.StatusNotImplemented:
			return permanent
		case status >= 500:
			return transient
		case status >= 400:
			return permanent
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && permanentCodes[ae.ErrorCode()] {
		return permanent
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) && permanentCodes[re.ErrorCode] {
		return permanent
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound, gcerrors.PermissionDenied, gcerrors.FailedPrecondition,
		gcerrors.AlreadyExists, gcerrors.InvalidArgument, gcerrors.Unimplemented, gcerrors.Canceled:
		return permanent
	}
	return transient
}

// httpStatus digs the response status out of any of the three SDKs' errors.
func httpStatus(err error) int {
	var hs interface{ HTTPStatusCode() int } // smithy-go (AWS)
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// isMissingBucket tells a missing bucket/container from a missing key: both
// are NotFound to gocloud, but only the first is a configuration error.
func isMissingBucket(err error) bool {
	if errors.Is(err, storage.ErrBucketNotExist) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
		return true
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode == "ContainerNotFound" {
		return true
	}
	return false
}

// redactor removes every credential value (and the URL's userinfo, should a
// caller put one there) from error text. Errors leaving the package are
// rebuilt as redactedError so that not even %+v of a wrapped SDK error can
// print a secret, while errors.Is/As still reach the sentinel errors and
// the SDK errors underneath.
type redactor struct{ secrets []string }

func newRedactor(secrets ...string) redactor {
	var r redactor
	for _, s := range secrets {
		// Very short values would redact ordinary words; credentials are
		// never that short.
		if len(s) >= 4 {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

func (r redactor) string(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
	}
	return s
}

func (r redactor) err(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) {
		return err
	}
	return &redactedError{msg: r.string(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Format keeps %+v and %#v from walking into the wrapped SDK error.
func (e *redactedError) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.msg)) }
