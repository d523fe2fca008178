// Package firmware defines vigil's deployable model file (.vgm) and turns
// its bytes into a ready infer model.
//
// A model file is a MessagePack envelope {magic, format version, payload,
// key id, signature} whose payload is a MessagePack Model: channel names
// and units, scaler, layers and weights, threshold and how it was chosen,
// and training metadata. Every array in the schema has a limit
// (//msgp:limit) and files are read into a size-capped buffer, so a
// hostile file fails fast with bounded memory.
//
// Signing (ed25519) and the on-device A/B slot store belong here too but
// are not built yet: the key id and signature are empty, and Load accepts
// such unsigned files only when asked to (LoadOptions.AllowUnsigned).
//
// firmware does not run models (package infer does) or train them.
package firmware

//go:generate go tool msgp -io=false -file schema.go -o schema_gen.go
