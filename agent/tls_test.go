package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/sensors"
)

// pki writes a certificate authority, a server certificate for
// 127.0.0.1 and a client certificate, all PEM, into dir.
type pki struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newPKI(t *testing.T, dir, name string) pki {
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(file, typ string, der []byte) string {
		p := filepath.Join(dir, name+"-"+file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (string, string) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(k)
		return write(cn+".pem", "CERTIFICATE", der), write(cn+"-key.pem", "EC PRIVATE KEY", kder)
	}
	var p pki
	p.ca = write("ca.pem", "CERTIFICATE", caDER)
	p.serverCert, p.serverKey = leaf(2, "server", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = leaf(3, "client", x509.ExtKeyUsageClientAuth)
	return p
}

// The agent reaches a broker that requires TLS and a client certificate;
// with a CA that did not sign the broker's certificate it refuses the
// connection and logs why at once.
func TestTLSBroker(t *testing.T) {
	dir := t.TempDir()
	good := newPKI(t, dir, "good")
	other := newPKI(t, dir, "other")
	tlsPort := freePort(t)
	m := newMosquitto(t, false,
		fmt.Sprintf("listener %d 127.0.0.1", tlsPort),
		"cafile "+good.ca, "certfile "+good.serverCert, "keyfile "+good.serverKey,
		"require_certificate true")
	url := fmt.Sprintf("ssl://127.0.0.1:%d", tlsPort)
	model := writeModel(t, dir, sensors.SKABChannels...)
	for _, tc := range []struct {
		name, ca string
		want     string
	}{
		{"trusted", good.ca, ""},
		{"untrusted", other.ca, "reason=tls"},
	} {
		conf := fmt.Sprintf(`site: tls
device: %s
channels: [%s]
model: {path: %s, allow_unsigned: true}
source:
  sim: {rate: 50}
mqtt:
  broker: %s
  tls: {ca_file: %s, cert_file: %s, key_file: %s}
outbox: {path: %s}
decision: {k: 1, n: 1}
`, tc.name, strings.Join(sensors.SKABChannels, ", "), model, url, tc.ca, good.clientCert, good.clientKey,
			filepath.Join(dir, tc.name+".db"))
		cfg, err := config.Parse([]byte(conf))
		if err != nil {
			t.Fatal(err)
		}
		if summary, err := Check(cfg); err != nil {
			t.Fatalf("%s: --check: %v", tc.name, err)
		} else if !strings.Contains(summary, url) {
			t.Errorf("%s: --check summary %q does not name the broker", tc.name, summary)
		}
		col := collect(t, m.url(), "vigil/tls/"+tc.name+"/#")
		var logs syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- Run(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Drain: time.Second})
		}()
		if tc.want == "" {
			col.wait(t, "alert", 1) // the zero model finds the pump anomalous at once
		} else {
			waitUntil(t, tc.name+" failure logged", 15*time.Second, func() bool { return strings.Contains(logs.String(), tc.want) })
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// syncBuffer is a strings.Builder safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
