package firmware

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Names of the checks a CheckError reports.
const (
	CheckFormat   = "format"   // the file's format version
	CheckFeatures = "features" // the features the model requires
	CheckChannels = "channels" // input channels against the configuration
	CheckUnits    = "units"    // channel units against the configuration
	CheckVersion  = "version"  // anti-rollback: newer than the installed model
)

// CheckError is a model refused for not fitting this program or this
// installation rather than for being damaged or forged: which check
// failed (one of the Check constants) and why.
type CheckError struct {
	Check string
	Msg   string
}

// Error returns the message, prefixed with the package name.
func (e *CheckError) Error() string { return "firmware: " + e.Msg }

// Compat describes the installation a new model must fit (see
// Loaded.Compatible).
type Compat struct {
	// Channels are the configured input channel names, in order; the
	// model must take exactly these, in this order. Empty: unchecked.
	Channels []string
	// Units maps configured channel names to their units; each must
	// equal the unit the model gives the channel, when it gives one.
	// Empty: unchecked.
	Units map[string]string
	// Installed is the model running now; nil if there is none.
	Installed *Model
	// AllowRollback accepts a model whose version is not greater than the
	// installed one: an explicit rollback.
	AllowRollback bool
}

// Compatible checks the loaded model against the installation c, in
// order channels, units, version, and returns the first refusal as a
// *CheckError. Decode has already checked the format and the features.
func (l *Loaded) Compatible(c Compat) error {
	if err := checkChannels(l.Model.ChannelNames(), c.Channels); err != nil {
		return err
	}
	if err := checkUnits(l.Model.Channels, c.Units); err != nil {
		return err
	}
	return checkVersion(l.Model.Version, c.Installed, c.AllowRollback)
}

// checkChannels compares the model's channels with the configured ones.
func checkChannels(model, configured []string) error {
	if len(configured) == 0 || slices.Equal(model, configured) {
		return nil
	}
	var problems []string
	seen := map[string]bool{}
	for _, c := range configured {
		if seen[c] {
			problems = append(problems, fmt.Sprintf("the configuration lists %q twice", c))
		}
		seen[c] = true
	}
	if lack := missing(model, configured); lack != nil {
		problems = append(problems, fmt.Sprintf("the model needs %q, which the configuration lacks", lack))
	}
	if extra := missing(configured, model); extra != nil {
		problems = append(problems, fmt.Sprintf("the configuration lists %q, which the model does not take", extra))
	}
	if problems == nil {
		problems = append(problems, fmt.Sprintf("they are out of order: the model takes %q, the configuration lists %q", model, configured))
	}
	return &CheckError{Check: CheckChannels, Msg: "model channels differ from the configured channels: " + strings.Join(problems, "; ")}
}

// missing returns the names of want that have is lacks.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// checkUnits compares the model's units with the configured ones.
func checkUnits(channels []Channel, units map[string]string) error {
	names := make([]string, 0, len(units))
	for name := range units {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := units[name]
		i := slices.IndexFunc(channels, func(c Channel) bool { return c.Name == name })
		switch {
		case want == "":
		case i < 0:
			return &CheckError{Check: CheckUnits, Msg: fmt.Sprintf("a unit is configured for channel %q, which the model does not take", name)}
		case channels[i].Unit != "" && channels[i].Unit != want:
			return &CheckError{Check: CheckUnits, Msg: fmt.Sprintf("channel %q: the model takes it in %q, the configuration gives %q", name, truncate(channels[i].Unit), want)}
		}
	}
	return nil
}

// checkVersion refuses a model not newer than the installed one, unless
// a rollback is allowed.
func checkVersion(v uint64, installed *Model, rollback bool) error {
	switch {
	case installed == nil || rollback || v > installed.Version:
		return nil
	case v == installed.Version:
		return &CheckError{Check: CheckVersion, Msg: fmt.Sprintf("version %d is the installed version: refusing to reinstall it; use an explicit rollback", v)}
	}
	return &CheckError{Check: CheckVersion, Msg: fmt.Sprintf("version %d is not newer than the installed %d: refusing a downgrade; use an explicit rollback", v, installed.Version)}
}
