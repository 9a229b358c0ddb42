// Package release checks the release configuration (.goreleaser.yaml)
// without building goreleaser.
//
// `goreleaser check` is the authority, but building goreleaser pulls in
// its whole dependency tree (cloud SDKs, signing, publishers): several CPU
// minutes and hundreds of megabytes of modules on a fresh machine, more
// than CI's 30-minute budget can spare (docs/ci.md). What that check
// catches in a config that loads — unknown keys and wrong types — is what
// goreleaser's own JSON schema describes, so the tests validate the config
// against the schema of the pinned release (`goreleaser jsonschema`, kept
// in testdata) and check the -X link flags name variables that exist.
// Where the pinned goreleaser is already built (the Makefile's tool
// cache), they also run `goreleaser check` itself and compare the kept
// schema with the binary's, so the copy cannot drift from the pin.
package release
