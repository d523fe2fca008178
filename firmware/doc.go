// Package firmware defines vigil's deployable model file (.vgm): how it is
// packed, signed, verified and checked before a gateway runs it, and how
// its bytes become a ready infer model.
//
// # The file
//
// A model file is a MessagePack map, the envelope. Format 2, which Pack
// and Sign write, has exactly these fields, in this order:
//
//	magic    "vigil-model"
//	format   2
//	payload  the MessagePack encoding of a Model (bin)
//	digest   the SHA-256 of payload (32 bytes)
//	key_id   the signing key's id, or "" when unsigned
//	sig      the ed25519 signature, or empty when unsigned
//
// The signature covers Magic, the format as 2 bytes big endian, and the
// payload, concatenated (SignedMessage): the format cannot be changed
// under a signature. The payload is a Model — channel names and units,
// scaler, layers and weights, threshold and suggested decision, training
// metadata — and lists in Requires the features (SupportedFeatures) a
// program must support to run it correctly; Pack fills it in
// (FeaturesUsed).
//
// A format 2 file must be canonical: the envelope exactly as Pack writes
// it, and a payload equal to the MessagePack encoding of the Model it
// decodes to, so a field this version does not know, a repeated field or
// an unusual encoding is refused (naming the field where it can), never
// skipped. Format 1 files — the first version's, with no digest, never
// signed, unknown fields skipped — still load, with a warning in
// Loaded.Warnings, unless LoadOptions.RefuseV1 is set.
//
// # Signing
//
// Keys are ed25519 (GenerateKey). A key's id is the first 8 bytes of the
// SHA-256 of its public key, in hex. Key files hold one line:
//
//	vigil-ed25519-public <base64 key> <name>
//	vigil-ed25519-private <base64 seed> <name>
//
// ReadPrivateKeyFile refuses a private key file that group or others may
// read. Sign turns a packed file (either format, unsigned or signed by
// another key) into a signed format 2 file. Decode verifies a signature
// with the trusted key (LoadOptions.Trusted) that has its key id: a file
// signed by a trusted key loads without AllowUnsigned, and names its
// signer in Loaded.Signer.
//
// # Limits and hostile files
//
// A file over LoadOptions.MaxBytes (default DefaultMaxBytes, 16 MiB) is
// refused with ErrTooLarge by Load, ReadFile and Decode alike. Before
// msgp decodes anything, Decode walks the whole MessagePack structure
// once, depth-limited and without allocating, and refuses any array, map,
// string or binary whose declared length exceeds the bytes left; msgp
// allocates a slice as soon as it reads an array's length, so this keeps
// the memory a file can make the decoder allocate to a small multiple of
// its size (refusing a hostile file of a few hundred bytes takes a few KiB
// of heap). The schema's //msgp:limit tags never refuse a file within
// HardMaxBytes; the per-field limits (MaxChannels, MaxLayers and a few
// lists) are checked by name first.
//
// A model must also make sense: its scaler has a finite centre and a
// scale with a finite reciprocal for every channel, its layers chain, and
// it scores a full window of its own scaler's centre, and of centre ±
// scale, to finite numbers — weights or a scaler that overflow are
// refused.
//
// # What an agent checks
//
// Decode with the agent's options refuses, in this order: a file too
// large; a damaged structure; a format it does not read (CheckError
// "format"); a payload not matching its digest (ErrDamaged, and in a
// signed file ErrBadSignature too); an unsigned file unless AllowUnsigned
// (ErrUnsigned); a signature by a key not in Trusted unless AllowUnsigned
// (ErrUntrustedKey) or one that does not verify (ErrBadSignature); a
// model requiring a feature this version lacks (CheckError "features");
// an unknown field; an invalid or overflowing model. Before installing a
// new model, the agent then calls Loaded.Compatible with its configured
// channels and units and the installed model: the channels must match in
// order, the units where configured, and the version must be greater
// than the installed one unless an explicit rollback is asked for
// (CheckError "channels", "units", "version"). A format 1 file or one
// signed by an untrusted key that loads anyway says so in Warnings, which
// an agent should log.
//
// firmware does not run models (package infer does) or train them.
package firmware

//go:generate go tool msgp -io=false -file schema.go -o schema_gen.go
