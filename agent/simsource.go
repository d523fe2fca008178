package agent

import (
	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// openSim runs the pump simulator in-process, paced in real time from
// now, with the configured faults (checked by config).
func openSim(c *config.Sim, channels []string, o Options) (sensors.Source, error) {
	so := sim.Opts{Seed: c.Seed, Rate: c.Rate, Start: o.Now().UTC()}
	for _, f := range c.Faults {
		ft, err := sim.ParseFault(f)
		if err != nil {
			return nil, err
		}
		so.Faults = append(so.Faults, ft)
	}
	pump, err := sim.New(so)
	if err != nil {
		return nil, err
	}
	src, err := sim.NewSource(pump, sim.SourceOpts{Paced: true})
	if err != nil {
		return nil, err
	}
	sel, err := selectChannels(src, channels)
	if err != nil {
		src.Close()
		return nil, err
	}
	return sel, nil
}
