// Package blob is neo4jctl's storage layer for backups: one Bucket type over
// gocloud.dev/blob (drivers s3blob, gcsblob, azureblob, fileblob), opened
// from one URL:
//
//	s3://bucket/prefix?region=eu-west-1&endpoint=http://minio:9000
//	gs://bucket/prefix?endpoint=http://127.0.0.1:4443
//	azblob://container/prefix?account=acct&endpoint=http://127.0.0.1:10000/acct
//	file:///var/backups/neo4j
//
// The path after the bucket scopes every key (blob.PrefixedBucket), so two
// clusters can share a bucket without seeing each other's objects. Buckets
// (and file:// directories) are never created: a missing one is a
// configuration error, reported once.
//
// Credentials come only from the Options the caller passes (a Secret's data:
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, GOOGLE_CREDENTIALS_JSON,
// AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY, ...), never from the URL; with
// none, each SDK's default chain is used (workload identity). Credential
// values never appear in errors, reports or URL(): every error leaving the
// package passes through a redactor that knows them.
//
// Faults: every operation is retried (Options.Attempts, default 5) with
// exponential backoff and full jitter capped at Options.MaxBackoff (30 s),
// each failed attempt reported as "attempt n/N: cause" through
// Options.Report, on top of the SDKs' own per-request retries (which also
// retry single parts of a multipart upload). Permanent errors — denied or
// invalid credentials, a missing bucket, a missing key, an object that
// already exists — are returned after one attempt.
//
// Re-readable sources: a retried upload starts again from the first byte,
// so Upload retries only when its reader can be rewound (an io.Seeker such as
// *os.File or *bytes.Reader); a plain stream is tried once (the SDK still
// retries its parts) and the error says so. UploadFrom takes a function that
// re-opens the source — for the agent, one that re-opens the artifact and
// re-encrypts it — and is retried like everything else; a ReadCloser that
// has Size() int64 gets parts large enough for that size.
//
// Nothing is silently partial: an upload that fails or is cancelled leaves no
// object under its key (S3 multipart uploads are aborted, single PUTs never
// complete, GCS/Azure commit only on success, fileblob renames a temp file).
package blob
