// Package config reads the agent's YAML configuration file.
//
// Decoding is strict: an unknown or misspelt key is an error naming the
// key and its line, and every value is checked once, at load time, so the
// agent's hot path can trust it. Defaults fill what the file leaves out
// (see Default). The package only describes the agent; it opens no
// devices or connections.
package config
