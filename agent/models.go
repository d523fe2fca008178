package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
)

// TopicModelSet and TopicModelStatus are the model update topics under
// the prefix: model files arrive on the first, answers leave retained on
// the second.
const (
	TopicModelSet    = "model/set"
	TopicModelStatus = "model/status"
)

// openStore opens the A/B model store, seeding an empty one with
// model.path (committed at once: it is the model the operator chose to
// start with). Its check is the agent's: signature, format and channels.
func openStore(cfg *config.Config, lo firmware.LoadOptions, log *slog.Logger) (*slots.Store, error) {
	st, err := slots.Open(cfg.Model.Store, storeOptions(cfg, lo, log))
	if err != nil {
		return nil, fmt.Errorf("agent: model.store: %w", err)
	}
	if r := st.Recovered(); r != "" {
		log.Warn("model store repaired", "dir", cfg.Model.Store, "what", r)
	}
	if st.Status().Active.Slot != "" {
		return st, nil
	}
	data, err := readModel(cfg.Model.Path, lo)
	if err != nil {
		return nil, err
	}
	if _, err := st.Install(data, slots.InstallOptions{}); err != nil {
		return nil, fmt.Errorf("agent: model.path %s into the empty store: %w", cfg.Model.Path, err)
	}
	if _, err := st.Activate(); err != nil {
		return nil, fmt.Errorf("agent: model store: %w", err)
	}
	if err := st.Commit(); err != nil {
		return nil, fmt.Errorf("agent: model store: %w", err)
	}
	log.Info("model store seeded", "dir", cfg.Model.Store, "from", cfg.Model.Path)
	return st, nil
}

// storeOptions are the model store's options: its check is the agent's
// (signature, format and channels).
func storeOptions(cfg *config.Config, lo firmware.LoadOptions, log *slog.Logger) slots.Options {
	check := func(data []byte) (uint64, error) {
		l, err := decodeModel(data, lo)
		if err != nil {
			return 0, err
		}
		if err := CheckChannels(l.Model.ChannelNames(), cfg.Channels); err != nil {
			return 0, err
		}
		return l.Model.Version, nil
	}
	return slots.Options{Check: check, MaxSize: maxBytes(lo), Logger: log}
}

// loadActive loads the store's active model.
func loadActive(cfg *config.Config, lo firmware.LoadOptions, st *slots.Store) (*loaded, error) {
	info, data, err := st.Active()
	if err != nil {
		return nil, fmt.Errorf("agent: model store %s: %w", cfg.Model.Store, err)
	}
	return loadData(cfg, lo, data, info.Path)
}

// maxBytes is the model size limit lo sets.
func maxBytes(lo firmware.LoadOptions) int64 {
	if lo.MaxBytes > 0 {
		return lo.MaxBytes
	}
	return firmware.DefaultMaxBytes
}

// probation converts the configuration's probation.
func probation(p config.Probation) slots.ProbationOptions {
	o := slots.ProbationOptions{Samples: p.Samples, MaxScoreFailures: p.MaxFailures}
	if p.MaxAlerts != nil {
		// At most MaxAlerts alerts in Samples samples.
		o.MaxAlertFraction = min(1, (float64(*p.MaxAlerts)+0.5)/float64(p.Samples))
	}
	return o
}

// swapper puts a verified model into the pipeline with the decision the
// configuration and the model make together.
func swapper(cfg *config.Config, p *Pipeline) func(context.Context, *firmware.Loaded, func(bool, bool)) error {
	return func(ctx context.Context, l *firmware.Loaded, observe func(bool, bool)) error {
		d, _ := decisionParams(cfg.Decision, l.Model.Decision)
		if err := d.Validate(); err != nil {
			return fmt.Errorf("decision (configuration over model %s): %w", l.ID, err)
		}
		return p.Swap(ctx, ModelSwap{Model: l.Autoencoder, Threshold: l.Model.Threshold.Value, ModelID: l.ID,
			Decision: d, Observe: observe})
	}
}

// dropEvery is how often the drop directory is looked at.
const dropEvery = 2 * time.Second

// dropPrefix marks requests from the drop directory in Status.From.
const dropPrefix = "drop:"

// Drop-directory names: a model file to install, one that may be older
// than the installed model (an explicit rollback), and a request to go
// back to the other slot.
const (
	dropExt      = ".vgm"
	dropRollback = ".rollback.vgm"
	dropBack     = "rollback"
	resultExt    = ".result"
)

// watchDrop polls dir every interval for files to install and submits
// them; each is removed once read (the store keeps what is installed),
// and its answers are written to NAME.result (writeResult).
func watchDrop(ctx context.Context, dir string, every time.Duration, limit int64, m *update.Manager, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	// A file is taken only once its size and time are the same at two
	// looks: scp and a copy from a USB stick write in place, and half a
	// model file would be refused (and removed).
	seen := map[string]fileMark{}
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			log.Warn("model.drop_dir unreadable", "dir", dir, "err", err)
		}
		now := map[string]fileMark{}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			mark := fileMark{info.Size(), info.ModTime()}
			now[name] = mark
			if prev, ok := seen[name]; !ok || prev != mark {
				continue // still being written, or new: look again next time
			}
			delete(now, name)
			path := filepath.Join(dir, name)
			switch {
			case name == dropBack:
				os.Remove(path)
				m.Submit(update.Request{Rollback: true, From: dropPrefix + name})
			case strings.HasSuffix(name, dropExt):
				data, err := readLimited(path, limit)
				os.Remove(path)
				if err != nil {
					m.Submit(update.Request{Err: err, From: dropPrefix + name})
					continue
				}
				m.Submit(update.Request{Data: data, From: dropPrefix + name, Rollback: strings.HasSuffix(name, dropRollback)})
			}
		}
		seen = now
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fileMark is what shows a file has stopped changing.
type fileMark struct {
	size int64
	mod  time.Time
}

// readLimited reads at most limit bytes of path, or fails.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%w: over %d bytes", firmware.ErrTooLarge, limit)
	}
	return b, err
}

// writeResult writes an answer to a drop-directory request to
// dir/NAME.result, atomically, for vigil-agent model install to read.
func writeResult(dir string, s update.Status) error {
	name, ok := strings.CutPrefix(s.From, dropPrefix)
	if !ok || dir == "" {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+resultExt+".tmp")
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name+resultExt))
}

// final reports whether a result ends a request.
func final(result string) bool { return result != update.Probation }

// errNoAnswer is vigil-agent model install's error when the agent does
// not answer in time.
var errNoAnswer = errors.New("no answer")
