package firmware

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

func TestSupportedFeatures(t *testing.T) {
	f := SupportedFeatures()
	if !slices.IsSorted(f) || len(f) != 8 || !slices.Contains(f, FeatureF16Weights) {
		t.Errorf("SupportedFeatures() = %q, want the 8 features, sorted", f)
	}
	f[0] = "changed"
	if SupportedFeatures()[0] == "changed" {
		t.Error("SupportedFeatures returns the package's own slice")
	}
}

// Pack lists in Requires what each model uses, and leaves the caller's
// model as it was.
func TestPackRequires(t *testing.T) {
	tests := []struct {
		model string
		mod   func(*Model)
		want  []string
	}{
		{"f32", nil, nil},
		{"int8", nil, []string{FeatureInt8Weights}},
		{"window", nil, []string{FeatureWindow}},
		{"conv", nil, []string{FeatureConv1D, FeatureWindow}},
		{"vae", nil, []string{FeatureAbsoluteError, FeatureVAE}},
		{"f32", func(m *Model) { m.Decision = Decision{K: 2, N: 3, Enter: 1.2} }, []string{FeatureDecisionV2}},
		{"f32", func(m *Model) { m.Decision = Decision{K: 2, N: 3} }, nil},
		{"f32", func(m *Model) { m.Requires = []string{FeatureVAE, FeatureVAE} }, []string{FeatureVAE}},
	}
	for _, tc := range tests {
		m := goldenModel(tc.model)
		if tc.mod != nil {
			tc.mod(m)
		}
		before := slices.Clone(m.Requires)
		b, err := Pack(m)
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		l, err := Decode(b, LoadOptions{AllowUnsigned: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		if !slices.Equal(l.Model.Requires, tc.want) || !slices.Equal(m.Requires, before) {
			t.Errorf("%s: requires %q (model's own now %q), want %q", tc.model, l.Model.Requires, m.Requires, tc.want)
		}
	}
}

// appendField adds a key and an encoded value to the map at the start of
// p (a payload).
func appendField(t testing.TB, p []byte, key string, value []byte) []byte {
	n := countKeys(t, p)
	_, rest, _ := msgp.ReadMapHeaderBytes(p)
	b := msgp.AppendMapHeader(nil, uint32(n+1))
	b = append(b, rest...)
	return append(msgp.AppendString(b, key), value...)
}

func TestDecodeFields(t *testing.T) {
	m := testModel()
	good := payloadOf(t, m)
	withRequires := func(req ...string) []byte {
		c := testModel()
		c.Requires = req
		p, _ := c.MarshalMsg(nil)
		return p
	}
	int8Model := testModel()
	int8Model.QuantizeInt8()
	undeclared, _ := int8Model.MarshalMsg(nil)
	// A layer with a field this version does not know.
	nested := bytesReplace(t, good, "\xa1b\x92", "\xa4wf16\xc4\x00\xa1b\x92", 1) // before the first layer's bias
	nested = bytesReplace(t, nested, "\x8f\xa4kind", "\xde\x00\x10\xa4kind", 1)  // the first layer map: 15 → 16 entries
	repeated := appendField(t, good, "name", msgp.AppendString(nil, "again"))
	// The version as a uint64 instead of a positive fixint.
	wide := bytesReplace(t, good, "\xa7version\x03", "\xa7version\xcf\x00\x00\x00\x00\x00\x00\x00\x03", 1)

	tests := []struct {
		name    string
		payload []byte
		format  int
		want    string
		check   string // the CheckError's Check, if one
	}{
		{"unknown feature", withRequires("bf16-weights"), 2, `model requires feature "bf16-weights", which this agent does not support: upgrade the agent`, CheckFeatures},
		{"unknown feature, format 1", withRequires("int4"), 1, `requires feature "int4"`, CheckFeatures},
		{"unknown feature and field", appendField(t, withRequires("bf16-weights"), "f16", []byte{0xc0}), 2, `"bf16-weights"`, CheckFeatures},
		{"undeclared feature", undeclared, 2, `model uses "int8-weights" but does not list it in requires`, CheckFeatures},
		{"unknown field", appendField(t, good, "comment", msgp.AppendString(nil, "hi")), 2, `model field "comment" is unknown to this version`, ""},
		{"unknown nested field", nested, 2, `model field "layers[].wf16" is unknown`, ""},
		{"repeated field", repeated, 2, "differs from its canonical encoding", ""},
		{"wide version number", wide, 2, "differs from its canonical encoding at byte", ""},
		{"requires not a list", withRequiresRaw(t, good, []byte{0x01}), 2, `model field "requires"`, ""},
		{"requires of numbers", withRequiresRaw(t, good, []byte{0x91, 0x01}), 2, `model field "requires"`, ""},
	}
	for _, tc := range tests {
		file := v2File(tc.payload)
		if tc.format == 1 {
			file = v1File(tc.payload)
		}
		_, err := Decode(file, LoadOptions{AllowUnsigned: true})
		var ce *CheckError
		if err == nil || !strings.Contains(err.Error(), tc.want) || tc.check != "" && (!errors.As(err, &ce) || ce.Check != tc.check) {
			t.Errorf("%s: Decode error %v, want one containing %q (check %q)", tc.name, err, tc.want, tc.check)
		}
	}
	// Format 1 files skip what they do not know, and need not declare what
	// they use.
	for _, p := range [][]byte{nested, repeated, wide, undeclared} {
		if _, err := Decode(v1File(p), LoadOptions{AllowUnsigned: true}); err != nil {
			t.Errorf("format 1: %v", err)
		}
	}
	if _, err := Decode(v2File(withRequires(FeatureVAE)), LoadOptions{AllowUnsigned: true}); err != nil {
		t.Errorf("a model requiring a supported feature it does not use: %v", err)
	}
}

// withRequiresRaw replaces the payload's requires value (an empty array)
// with value.
func withRequiresRaw(t testing.TB, p, value []byte) []byte {
	return bytesReplace(t, p, "\xa8requires\x90", "\xa8requires"+string(value), 1)
}

// bytesReplace replaces the first n occurrences of old in b, which must
// hold them.
func bytesReplace(t testing.TB, b []byte, old, new string, n int) []byte {
	t.Helper()
	if strings.Count(string(b), old) < n {
		t.Fatalf("%q not in the payload", old)
	}
	return []byte(strings.Replace(string(b), old, new, n))
}
