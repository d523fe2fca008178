package firmware

import (
	"errors"
	"strings"
	"testing"
)

func TestCompatible(t *testing.T) {
	b, _ := Pack(testModel()) // channels a (bar), b (A), c (g); version 3
	l, err := Decode(b, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	abc := []string{"a", "b", "c"}
	tests := []struct {
		name  string
		c     Compat
		check string // "" for none
		want  string
	}{
		{"nothing to check", Compat{}, "", ""},
		{"same channels", Compat{Channels: abc}, "", ""},
		{"missing", Compat{Channels: []string{"a", "b"}}, CheckChannels, `the model needs ["c"], which the configuration lacks`},
		{"extra", Compat{Channels: []string{"a", "b", "c", "d"}}, CheckChannels, `the configuration lists ["d"], which the model does not take`},
		{"both", Compat{Channels: []string{"a", "x", "c"}}, CheckChannels, `needs ["b"]`},
		{"order", Compat{Channels: []string{"b", "a", "c"}}, CheckChannels, `out of order: the model takes ["a" "b" "c"], the configuration lists ["b" "a" "c"]`},
		{"twice", Compat{Channels: []string{"a", "b", "c", "a"}}, CheckChannels, `lists "a" twice`},
		{"units match", Compat{Channels: abc, Units: map[string]string{"a": "bar", "c": "g"}}, "", ""},
		{"unit differs", Compat{Channels: abc, Units: map[string]string{"a": "kPa"}}, CheckUnits, `channel "a": the model takes it in "bar", the configuration gives "kPa"`},
		{"unit of an unknown channel", Compat{Units: map[string]string{"z": "V"}}, CheckUnits, `channel "z", which the model does not take`},
		{"empty unit", Compat{Units: map[string]string{"a": ""}}, "", ""},
		{"newer", Compat{Installed: &Model{Version: 2}}, "", ""},
		{"downgrade", Compat{Installed: &Model{Version: 5}}, CheckVersion, "version 3 is not newer than the installed 5: refusing a downgrade; use an explicit rollback"},
		{"same version", Compat{Installed: &Model{Version: 3}}, CheckVersion, "version 3 is the installed version"},
		{"rollback", Compat{Installed: &Model{Version: 5}, AllowRollback: true}, "", ""},
		{"channels first", Compat{Channels: []string{"a"}, Installed: &Model{Version: 5}}, CheckChannels, "channels"},
	}
	for _, tc := range tests {
		err := l.Compatible(tc.c)
		var ce *CheckError
		switch {
		case tc.check == "" && err != nil:
			t.Errorf("%s: Compatible = %v, want nil", tc.name, err)
		case tc.check != "" && (!errors.As(err, &ce) || ce.Check != tc.check || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Compatible = %v, want a %q CheckError containing %q", tc.name, err, tc.check, tc.want)
		}
	}
	// A model that gives no unit for a channel is not checked for it.
	m := testModel()
	m.Channels[1].Unit = ""
	b, _ = Pack(m)
	l, _ = Decode(b, LoadOptions{AllowUnsigned: true})
	if err := l.Compatible(Compat{Units: map[string]string{"b": "mA"}}); err != nil {
		t.Errorf("configured unit for a channel without one in the model: %v", err)
	}
}
