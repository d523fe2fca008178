package firmware

import (
	"errors"
	"fmt"
	"slices"
)

// FusedMethod is Threshold.Method of a multi-scale model: its threshold
// applies to the mean of its networks' scores over their own thresholds.
const FusedMethod = "fused: mean of score/threshold"

// AddMember adds the network of n, a model over the same channels, to m
// as a member (see Model.Members). The first member makes m multi-scale:
// m's own threshold becomes its Norm, and its Threshold becomes 1 over
// the fused score, so an alarm needs the networks, on average, at their
// own thresholds. m keeps its decision, channels and provenance.
func AddMember(m, n *Model) error {
	switch {
	case !slices.Equal(m.ChannelNames(), n.ChannelNames()):
		return fmt.Errorf("firmware: member reads channels %q, the model %q", n.ChannelNames(), m.ChannelNames())
	case len(n.Members) > 0:
		return errors.New("firmware: a multi-scale model cannot be a member")
	case len(m.Members) > 0 && m.Threshold.Method != FusedMethod:
		return fmt.Errorf("firmware: model has members but threshold method %q, want %q", m.Threshold.Method, FusedMethod)
	}
	if len(m.Members) == 0 {
		m.Norm = m.Threshold.Value
		m.Threshold = Threshold{Value: 1, Method: FusedMethod}
	}
	m.Members = append(m.Members, *n.own())
	return nil
}
