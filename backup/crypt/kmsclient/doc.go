// Package kmsclient opens the KMS key that wraps a backup keyset
// (spec.backups.encryption.kms) through Tink's KMS extensions: AWS KMS
// (tink-go-awskms, aws-kms://arn:…) and Cloud KMS (tink-go-gcpkms, REST,
// gcp-kms://projects/…). Credentials come from each provider's default
// chain — workload identity (IRSA, GKE), the environment, instance
// metadata — never from the cluster file. The returned AEAD satisfies
// crypt.KMS: crypt.LoadKeyset unwraps the keyset with it, Keys.Marshal
// wraps it (Tink's envelope, as `tinkey create-keyset --master-key-uri`).
package kmsclient
