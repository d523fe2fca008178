// Package slots is the gateway's A/B model store: two slot files, a.vgm
// and b.vgm, and a small state file, state.json, in one directory (for
// example /var/lib/vigil/models). One slot holds the model the agent runs,
// the other the model to go back to or the next one to try.
//
// The store does not decode model files. Options.Check does: the caller
// decodes and verifies the bytes (envelope, signature, input channels) and
// returns the model's monotonic version. The store keeps each slot's
// version, size and SHA-256 in state.json and checks a slot file again
// (digest and Check) before it reports the file active.
//
// # An update
//
// Install writes a new model into the inactive slot; it refuses a file
// Check refuses, and a version not greater than the committed one
// (ErrDowngrade) unless InstallOptions.AllowRollback is set. Activate puts
// the installed model on trial: it becomes the active model while the
// committed one stays in the other slot. The agent then watches the new
// model with a Probation and calls Commit when it passed or Revert(reason)
// when it failed; Revert makes the committed model active again and keeps
// the reason for Status. Rollback is the operator's explicit switch to the
// other slot, even to an older version. Install is refused while a model
// is on trial (ErrOnTrial): the other slot holds the model to go back to.
//
// # Power cuts
//
// A power cut at any step leaves a working model. Every file, slot or
// state, is written to a temporary file in the directory, fsync'd, renamed
// over its name and the directory fsync'd; only then does the next step
// start. A slot file is written only while it is inactive, and state.json,
// whose rename is the commit point of each step, carries a CRC-32C. So
// whatever the moment of the cut, the disk holds one of the states between
// two steps, plus perhaps a partial temporary file, which Open removes.
//
// Open then repairs what the cut left:
//
//   - A slot file that does not match state.json (an install cut short
//     after its rename) is recorded as it is, installed but not activated,
//     or forgotten when Check refuses it.
//   - A model still on trial means the agent stopped during probation: that
//     counts against the new model. Open makes the committed model active
//     again and records "agent restarted during probation" as the rollback
//     reason. A Commit cut short before its state.json rename has not
//     committed, so its model is rolled back too. Only when there is no
//     committed model to go back to (the first model, or the committed
//     slot is damaged) does the trial model stay on trial, and probation
//     starts again.
//   - An active slot file that no longer matches its digest or Check (a
//     bit flip on the SD card) is replaced by the other slot, committed at
//     once, when that one passes Check, and the reason is recorded; when neither passes, the store
//     has no active model and Active returns ErrNoModel, so the agent can
//     still receive a new one.
//   - A missing or damaged state.json is rebuilt from the slot files that
//     pass Check: one good file becomes the committed model; of two, the
//     one the damaged state.json named as committed, if it can still be
//     read, and otherwise the higher version goes on trial with the lower
//     one to fall back to.
//
// Open reports what it did in Store.Recovered (and logs it when
// Options.Logger is set); the recovered state is written back, so a second
// Open finds nothing to repair.
//
// Process kills between every pair of steps are tested by re-executing
// the test binary; the directory snapshot at every step is tested in the
// same process (crash_test.go lists the steps).
//
// # Concurrency
//
// Store methods are safe for concurrent use: one mutex serialises them,
// disk writes included. One process at a time may Open a directory; the
// store does not lock it against a second process. Other processes, such
// as `vigil-agent model status`, read it with ReadStatus, which changes
// nothing. Probation is for one goroutine, the agent's sampling loop, and
// does not allocate.
//
// slots does not decode, verify or run models (packages firmware and
// infer do) and does not fetch them (the agent does).
package slots
