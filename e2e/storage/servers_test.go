package storage

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// TestS3ServerHonoursIfNoneMatch is why the S3 server is versitygw: create-
// if-absent needs If-None-Match: * on PutObject AND on
// CompleteMultipartUpload (gofakes3 v1.2.0 checks it on PutObject only, and
// keeps multipart parts in memory). Checked with the bare AWS SDK, not
// through backup/blob.
func TestS3ServerHonoursIfNoneMatch(t *testing.T) {
	s := StartS3(t)
	s.CreateBucket(t, "cond")
	ctx := context.Background()
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint), Region: s.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	put := func(body string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"),
			Body: bytes.NewReader([]byte(body)), IfNoneMatch: aws.String("*")})
		return err
	}
	if err := put("first"); err != nil {
		t.Fatalf("first conditional PUT: %v", err)
	}
	if err := put("second"); !isPreconditionFailed(err) {
		t.Fatalf("second conditional PUT = %v, want 412 PreconditionFailed", err)
	}

	// A multipart upload completed onto the existing key: refused too.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cond"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("cond"), Key: aws.String("k"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("multipart"))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("cond"), Key: aws.String("k"),
		UploadId: mp.UploadId, IfNoneMatch: aws.String("*"),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	if !isPreconditionFailed(err) {
		t.Fatalf("conditional CompleteMultipartUpload onto an existing key = %v, want 412", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(got.Body)
	if buf.String() != "first" {
		t.Fatalf("object = %q, want the first writer's", buf.String())
	}
}

func isPreconditionFailed(err error) bool {
	var ae smithy.APIError
	var hs interface{ HTTPStatusCode() int }
	return err != nil && ((errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed") ||
		(errors.As(err, &hs) && hs.HTTPStatusCode() == http.StatusPreconditionFailed))
}
