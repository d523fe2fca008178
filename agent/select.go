package agent

import (
	"context"
	"fmt"

	"github.com/vigil-edge/vigil/sensors"
)

// selectSource gives a source's channels in another order, or a subset
// of them, for sources that cannot pick channels themselves.
type selectSource struct {
	sensors.Source
	want []string
	idx  []int // idx[i]: position in the inner sample of want[i]
	in   sensors.Sample
}

// selectChannels returns src itself if it already gives want in order,
// else an adapter; every wanted channel must exist in src.
func selectChannels(src sensors.Source, want []string) (sensors.Source, error) {
	have := src.Channels()
	idx := make([]int, len(want))
	same := len(have) == len(want)
	for i, w := range want {
		idx[i] = -1
		for j, h := range have {
			if h == w {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("source has no channel %q (it has %q)", w, have)
		}
		same = same && idx[i] == i
	}
	if same {
		return src, nil
	}
	return &selectSource{Source: src, want: want, idx: idx, in: sensors.Sample{Values: make([]float32, len(have))}}, nil
}

func (s *selectSource) Channels() []string { return s.want }

func (s *selectSource) Read(ctx context.Context, out *sensors.Sample) error {
	if err := s.Source.Read(ctx, &s.in); err != nil {
		return err
	}
	out.Time = s.in.Time
	for i, j := range s.idx {
		out.Values[i] = s.in.Values[j]
	}
	return nil
}
