package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-edge/vigil/firmware"
)

func runKeygen(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "keygen", "--name NAME [--out DIR]")
	name := fs.String("name", "", "the key's name, shown by vigil inspect and the agent's log (e.g. release)")
	dir := fs.String("out", ".", "directory for NAME.key (secret, mode 0600) and NAME.pub")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() != 0 {
		return usagef("want --name NAME and no arguments")
	}
	pub, priv, err := firmware.GenerateKey(*name, nil)
	if err != nil {
		return err
	}
	privText, err := priv.MarshalText()
	if err != nil {
		return err
	}
	pubText, err := pub.MarshalText()
	if err != nil {
		return err
	}
	privPath, pubPath := filepath.Join(*dir, *name+".key"), filepath.Join(*dir, *name+".pub")
	// O_EXCL: never overwrite a key that may have signed models already.
	f, err := os.OpenFile(privPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("private key: %w (a key of that name exists? choose another name or directory)", err)
	}
	if _, err := f.Write(privText); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(pubPath, pubText, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "key %s, id %s\nprivate %s (keep it secret)\npublic  %s (list it in the agent's model.trusted_keys)\n",
		*name, pub.ID(), privPath, pubPath)
	return nil
}

func runSign(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "sign", "--key NAME.key [--out FILE] MODEL.vgm")
	keyPath := fs.String("key", "", "private key file from vigil keygen")
	out := fs.String("out", "", "signed file (default: replace MODEL.vgm)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keyPath == "" || fs.NArg() != 1 {
		return usagef("want --key FILE and exactly one model file")
	}
	key, err := firmware.ReadPrivateKeyFile(*keyPath)
	if err != nil {
		return err
	}
	in := fs.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	signed, err := firmware.Sign(data, key)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	dst := *out
	if dst == "" {
		dst = in
	}
	if err := firmware.WriteFile(dst, signed, 0o644); err != nil {
		return err
	}
	l, err := firmware.Decode(signed, firmware.LoadOptions{Trusted: []firmware.PublicKey{key.Public()}})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: model %s (version %d) signed by %s\n", dst, l.ID, l.Model.Version, key.Public())
	return nil
}

func runVerify(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "verify", "--key NAME.pub [--key OTHER.pub ...] MODEL.vgm")
	var keys keyFiles
	fs.Var(&keys, "key", "trusted public key file (repeatable), as in the agent's model.trusted_keys")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(keys) == 0 || fs.NArg() != 1 {
		return usagef("want at least one --key and exactly one model file")
	}
	trusted, err := keys.read()
	if err != nil {
		return err
	}
	o := firmware.LoadOptions{Trusted: trusted}
	l, err := firmware.ReadFile(fs.Arg(0), o)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: good signature by %q (key id %s); model %s, version %d, format %d\n",
		fs.Arg(0), l.Signer, l.KeyID, l.ID, l.Model.Version, l.Format)
	for _, w := range l.Warnings {
		fmt.Fprintf(env.Stdout, "warning: %s\n", w)
	}
	return nil
}

// keyFiles is a repeatable --key flag.
type keyFiles []string

func (k *keyFiles) String() string { return fmt.Sprint(*k) }

// read reads the public key files.
func (k keyFiles) read() ([]firmware.PublicKey, error) {
	var keys []firmware.PublicKey
	for _, f := range k {
		pub, err := firmware.ReadPublicKeyFile(f)
		if err != nil {
			return nil, err
		}
		keys = append(keys, pub)
	}
	return keys, nil
}

func (k *keyFiles) Set(v string) error {
	if v == "" {
		return errors.New("empty key file name")
	}
	*k = append(*k, v)
	return nil
}
