// Package kmsfake is a key management service for tests, spoken over real
// HTTP on loopback: AWS KMS's JSON protocol (TrentService.Encrypt and
// .Decrypt, as the AWS SDK sends them) and Cloud KMS's REST API
// (cryptoKeys.encrypt and .decrypt, CRC32C fields included). Each key is a
// local AES-256-GCM key; the encryption context (AWS) or additional
// authenticated data (GCP) is bound as associated data, as the real
// services do. It checks that requests are signed or carry credentials
// only as far as the SDKs send them; it is not a security boundary.
package kmsfake
