package slots_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vigil-edge/vigil/firmware/slots"
)

// checkModel stands in for the agent's check, which decodes and verifies
// a .vgm file with package firmware; here a model file is "model v<N>".
func checkModel(data []byte) (uint64, error) {
	var v uint64
	if _, err := fmt.Sscanf(string(data), "model v%d", &v); err != nil {
		return 0, fmt.Errorf("not a model file: %v", err)
	}
	return v, nil
}

// A new model is installed into the inactive slot, activated on trial,
// watched by a Probation for a few samples and committed; a later model
// fails its probation and is reverted.
func Example() {
	dir, err := os.MkdirTemp("", "slots-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := slots.Open(filepath.Join(dir, "models"), slots.Options{Check: checkModel})
	if err != nil {
		log.Fatal(err)
	}
	// update installs and activates a model, then feeds the probation one
	// result per sample, as the agent's sampling loop would.
	update := func(file string, scoredOK bool) {
		info, err := store.Install([]byte(file), slots.InstallOptions{})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("installed version %d in slot %s\n", info.Version, info.Slot)
		if _, err := store.Activate(); err != nil {
			log.Fatal(err)
		}
		p, err := slots.NewProbation(slots.ProbationOptions{Samples: 3})
		if err != nil {
			log.Fatal(err)
		}
		v := slots.Running
		for v == slots.Running {
			v = p.Observe(scoredOK, false)
		}
		if v == slots.Passed {
			err = store.Commit()
		} else {
			_, err = store.Revert(p.Reason())
		}
		if err != nil {
			log.Fatal(err)
		}
		st := store.Status()
		fmt.Printf("probation %v: slot %s, version %d active\n", v, st.Active.Slot, st.Active.Version)
	}
	update("model v1", true)
	update("model v2", true)
	update("model v1", true) // an old file pushed again
	update("model v3", false)

	fmt.Println("last rollback:", store.Status().LastRollback.Reason)
	_, data, err := store.Active() // what the agent loads at start
	fmt.Printf("the agent runs %q (%v)\n", data, errors.Is(err, slots.ErrNoModel))
	// Output:
	// installed version 1 in slot a
	// probation passed: slot a, version 1 active
	// installed version 2 in slot b
	// probation passed: slot b, version 2 active
	// slots: downgrade refused: version 1 is not greater than 2 (committed, slot b); install with AllowRollback to go back
	// installed version 3 in slot a
	// probation failed: slot b, version 2 active
	// last rollback: score failed on 1 of 1 samples (at most 0 allowed)
	// the agent runs "model v2" (false)
}
