package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// DefaultRate is the sampling rate when Opts.Rate is 0, in samples per
// second of simulated time.
const DefaultRate = 10

// MaxRate is the highest Opts.Rate accepted.
const MaxRate = 100000

// defaultStart is the time of the first sample when Opts.Start is zero.
var defaultStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Opts configures a Pump.
type Opts struct {
	// Seed selects the run: the same Opts give the same samples, bit for
	// bit, on a given architecture (across architectures, fused
	// multiply-adds and math functions may change the last bits).
	Seed uint64
	// Rate is samples per second of simulated time; 0 means DefaultRate.
	// The dynamics are defined in simulated seconds, so the rate changes
	// how densely the same process is sampled, not its character.
	Rate float64
	// Start is the time of the first sample; zero means
	// 2020-01-01 00:00:00 UTC (so that output never depends on the clock).
	// Sample times are Start + k/Rate, in UTC.
	Start time.Time
	// Faults are injected into the output; they may overlap.
	Faults []Fault
}

// Channel indices in sensors.SKABChannels order.
const (
	chAcc1 = iota
	chAcc2
	chCurrent
	chPressure
	chTemperature
	chThermocouple
	chVoltage
	chFlow
	numChannels
)

// Means and standard deviations of SKAB's anomaly-free recording, which
// the simulated marginals reproduce.
var (
	channelMean = [numChannels]float64{0.2126, 0.2684, 2.403, 0.111, 89.47, 28.47, 228.6, 125.24}
	channelStd  = [numChannels]float64{0.0047, 0.0040, 0.486, 0.253, 0.667, 0.73, 11.0, 1.6}
)

// Latent factors: unit-variance AR(1) processes with these time constants
// in simulated seconds.
const (
	latFlow = iota
	latVib
	latTherm
	numLatent
)

var latentTau = [numLatent]float64{120, 30, 600}

// Each channel, in standard units, is a mix of the latent factors, the
// mains voltage noise and its own noise; each row's squares sum to about 1
// so that the channel's spread is channelStd.
var (
	loadLatent = [numChannels][numLatent]float64{
		chAcc1:         {0.30, 0.80, 0},
		chAcc2:         {0.30, 0.80, 0},
		chCurrent:      {0.50, 0, 0},
		chPressure:     {-0.60, 0, 0},
		chTemperature:  {0.25, 0, 0.90},
		chThermocouple: {0, 0, 0.97},
		chVoltage:      {0, 0, 0},
		chFlow:         {0.90, 0, 0},
	}
	loadVoltage = [numChannels]float64{chCurrent: 0.45, chVoltage: 1}
	loadOwn     = [numChannels]float64{0.52, 0.52, 0.74, 0.80, 0.36, 0.243, 0, 0.436}
)

// Fault effects at full size.
const (
	valveFlowDrop     = 0.28 // fraction of flow
	valvePressureRise = 1.0  // bar
	valveCurrentDrop  = 0.15 // A
	// An unbalanced rotor shakes the pump mostly in one radial direction:
	// the accelerometer across it rises far more than the other, which
	// breaks the two sensors' usual agreement.
	imbalanceSigmas1 = 8    // Accelerometer1RMS rise in channel standard deviations
	imbalanceSigmas2 = 2    // Accelerometer2RMS rise
	imbalanceCurrent = 0.15 // A
	cavitationNoise  = 4    // accelerometer noise, times the normal one
	cavitationRipple = 0.6  // bar, amplitude
	cavitationFreq   = 0.3  // Hz
	cavitationFlow   = 0.05 // fraction of flow
)

// Pump is a simulated SKAB water pump. It is not safe for concurrent use.
type Pump struct {
	rng    *rand.Rand
	rate   float64
	start  time.Time
	faults []Fault

	phi, innov [numLatent]float64 // AR(1) coefficient and innovation scale
	z          [numLatent]float64 // latent state
	k          uint64             // index of the next sample

	active    Kind
	hasActive bool
}

// New validates opts and returns a Pump whose first Next yields the sample
// at opts.Start. The latent factors start in their stationary
// distribution, so there is no warm-up transient.
func New(opts Opts) (*Pump, error) {
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if !(opts.Rate > 0 && opts.Rate <= MaxRate) { // also rejects NaN
		return nil, fmt.Errorf("sim: Opts.Rate %v is outside (0, %d] samples per second", opts.Rate, MaxRate)
	}
	if opts.Start.IsZero() {
		opts.Start = defaultStart
	}
	for _, f := range opts.Faults {
		if err := f.validate(); err != nil {
			return nil, err
		}
	}
	p := &Pump{
		rng:    rand.New(rand.NewPCG(opts.Seed, 0x5eed_cafe_f00d_d00d^opts.Seed)),
		rate:   opts.Rate,
		start:  opts.Start.UTC(),
		faults: append([]Fault(nil), opts.Faults...),
	}
	dt := 1 / opts.Rate
	for i, tau := range latentTau {
		p.phi[i] = math.Exp(-dt / tau)
		p.innov[i] = math.Sqrt(1 - p.phi[i]*p.phi[i])
		p.z[i] = p.rng.NormFloat64()
	}
	return p, nil
}

// Channels returns sensors.SKABChannels, the channels Next writes, in
// order. The slice is shared and must not be modified.
func (p *Pump) Channels() []string { return sensors.SKABChannels }

// Rate returns the sampling rate in samples per second of simulated time.
func (p *Pump) Rate() float64 { return p.rate }

// elapsed returns the simulated time of sample k after Start.
func (p *Pump) elapsed(k uint64) time.Duration {
	return time.Duration(math.Round(float64(k) * 1e9 / p.rate))
}

// Elapsed returns the simulated time since Start of the sample the next
// call of Next will produce.
func (p *Pump) Elapsed() time.Duration { return p.elapsed(p.k) }

// Active reports the fault active at the sample Next produced last (the
// first in Opts.Faults if several overlap), for labelling output. It is
// (0, false) before the first Next and when no fault is active.
func (p *Pump) Active() (Kind, bool) { return p.active, p.hasActive }

// Next writes the next sample to s: s.Time is Start + k/Rate and
// s.Values[i] the value of sensors.SKABChannels[i]. s.Values should have 8
// elements; a shorter slice receives only its first len(s.Values)
// channels. Next does not allocate.
func (p *Pump) Next(s *sensors.Sample) {
	rel := p.elapsed(p.k)
	p.k++
	s.Time = p.start.Add(rel)

	for i := range p.z {
		p.z[i] = p.phi[i]*p.z[i] + p.innov[i]*p.rng.NormFloat64()
	}
	volt := p.rng.NormFloat64()
	var v [numChannels]float64
	for c := range v {
		std := loadOwn[c]*p.rng.NormFloat64() + loadVoltage[c]*volt
		for l, w := range loadLatent[c] {
			std += w * p.z[l]
		}
		v[c] = channelMean[c] + channelStd[c]*std
	}
	// Drawn at every sample, used or not, so that faults never shift the
	// random stream: a faulted run equals the clean one outside its faults.
	cav1, cav2 := p.rng.NormFloat64(), p.rng.NormFloat64()

	p.active, p.hasActive = 0, false
	var dropped uint8 // bit c: channel c reads NaN
	for i := range p.faults {
		f := &p.faults[i]
		in, a := f.envelope(rel)
		if !in {
			f.holding, f.spiked = false, false
			continue
		}
		if !p.hasActive {
			p.active, p.hasActive = f.Kind, true
		}
		switch f.Kind {
		case ValveClosed:
			v[chFlow] *= 1 - valveFlowDrop*a
			v[chPressure] += valvePressureRise * a
			v[chCurrent] -= valveCurrentDrop * a
		case RotorImbalance:
			v[chAcc1] += imbalanceSigmas1 * channelStd[chAcc1] * a
			v[chAcc2] += imbalanceSigmas2 * channelStd[chAcc2] * a
			v[chCurrent] += imbalanceCurrent * a
		case Cavitation:
			// Own noise n becomes cavitationNoise*n: add independent
			// noise of sqrt(c²-1) times its spread.
			extra := math.Sqrt(cavitationNoise*cavitationNoise-1) * a
			v[chAcc1] += extra * loadOwn[chAcc1] * channelStd[chAcc1] * cav1
			v[chAcc2] += extra * loadOwn[chAcc2] * channelStd[chAcc2] * cav2
			u := (rel - f.Start).Seconds()
			v[chPressure] += cavitationRipple * a * math.Sin(2*math.Pi*cavitationFreq*u)
			v[chFlow] *= 1 - cavitationFlow*a
		case SensorDropout:
			dropped |= 1 << f.Channel
		case SensorStuck:
			if !f.holding {
				f.held, f.holding = v[f.Channel], true
			}
			v[f.Channel] = f.held
		case SensorSpike:
			if sec := int64((rel - f.Start) / time.Second); !f.spiked || sec != f.lastSpike {
				f.lastSpike, f.spiked = sec, true
				v[f.Channel] += SpikeSigmas * channelStd[f.Channel]
			}
		case SensorDrift:
			v[f.Channel] += DriftSigmasPerSecond * channelStd[f.Channel] * (rel - f.Start).Seconds()
		}
	}
	for c := range min(len(s.Values), numChannels) {
		s.Values[c] = float32(v[c])
		if dropped&(1<<c) != 0 {
			s.Values[c] = float32(math.NaN())
		}
	}
}
