package agent

import (
	"math"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/health"
	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/sensors/modbus"
)

// sourceStats collects, while sources are opened, how to read their
// counters for the status server.
type sourceStats []func() health.SourceInfo

// addModbus registers a Modbus poller's per-slave counters under name.
func (s *sourceStats) addModbus(name string, p *modbus.Poller) {
	if s == nil {
		return
	}
	*s = append(*s, func() health.SourceInfo {
		info := health.SourceInfo{Name: name}
		for _, st := range p.Stats() {
			info.Modbus = append(info.Modbus, health.SlaveInfo{Slave: st.Slave, Requests: st.Requests, Timeouts: st.Timeouts,
				CRCErrors: st.CRCErrors, Exceptions: st.Exceptions})
			info.ReadErrors += st.Timeouts + st.CRCErrors + st.Exceptions + st.FrameErrs + st.OtherErrs
		}
		return info
	})
}

// snapshotter builds what the status server shows from the running
// agent's parts; every part it reads is safe from other goroutines.
type snapshotter struct {
	cfg     *config.Config
	p       *Pipeline
	ob      *outbox.Outbox
	sender  **publish.Sender // set once the sender starts
	names   []string
	signer  string
	version uint64
	k, n    int
	sources *sourceStats
	now     func() time.Time
}

func (s *snapshotter) snapshot() health.Snapshot {
	now := s.now()
	l := s.p.Live()
	ps := s.p.Stats()
	snap := health.Snapshot{
		Time: now, Name: s.cfg.Site + "/" + s.cfg.Device, State: s.p.State(),
		Score: float64(l.Score), Threshold: float64(l.Threshold), AlarmAbove: float64(l.AlarmAbove), NormalAt: float64(l.NormalAt),
		Model:   health.ModelInfo{Loaded: true, ID: s.p.ModelID(), Version: s.version, Signer: s.signer, K: s.k, N: s.n},
		Samples: ps.Samples, Faults: ps.Faults, Stales: ps.Stales, LastSample: l.LastArrival,
		StaleAfter: s.p.staleTimeout(),
	}
	for i, name := range s.names {
		c := health.Channel{Name: name, Value: math.NaN(), Share: math.NaN()}
		if i < len(l.Values) && !l.Time.IsZero() {
			c.Value, c.Share = float64(l.Values[i]), float64(l.Shares[i])
		}
		snap.Channels = append(snap.Channels, c)
	}
	os := s.ob.Stats()
	snap.Outbox = health.OutboxInfo{Pending: os.Pending, PendingAlerts: os.PendingAlerts,
		Durable: os.DiskErr == nil && os.MemoryOnly == 0}
	if !os.Oldest.IsZero() {
		snap.Outbox.Oldest = now.Sub(os.Oldest)
	}
	if os.DiskErr != nil {
		snap.Outbox.Error = os.DiskErr.Error()
	}
	if sender := *s.sender; sender != nil {
		bs := sender.Stats()
		snap.Broker = health.BrokerInfo{Connected: bs.Connected, URL: bs.Broker, LastError: bs.LastError,
			Connects: bs.Connects, Failures: bs.Failures, Sent: bs.Sent}
	}
	for _, f := range *s.sources {
		snap.Sources = append(snap.Sources, f())
	}
	return snap
}
