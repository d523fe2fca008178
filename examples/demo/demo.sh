#!/usr/bin/env bash
# vigil end-to-end demo (run by `make demo` after the binaries are built):
#   1. simulate an hour of healthy pump data and train a model on it;
#   2. start an embedded MQTT broker on loopback;
#   3. run the pump simulator on a pseudo-terminal, with faults injected
#      from 20 s on;
#   4. run vigil-agent reading that terminal through the serial driver;
#   5. print every state change the agent publishes.
# Ctrl-C (or SIGTERM) stops everything, in any phase. Nothing outside
# .demo/ is written. DEMO_TRAIN_FOR shortens the simulated training
# recording (default 10h).
set -euo pipefail
BIN=${BIN:-bin}
DIR=${DEMO_DIR:-.demo}
PORT=${DEMO_PORT:-18830}
FAULTS=${DEMO_FAULTS:-"valve-closed@20s+15s rotor-imbalance@55s+15s cavitation@90s+15s"}
# DEMO_MODBUS=rtu (make demo-modbus) or tcp: the simulator serves the
# pump as a Modbus slave (RTU on the pseudo-terminal, or TCP) and the
# agent polls its registers, instead of reading CSV lines.
MODBUS=${DEMO_MODBUS:-}
MODBUS_ADDR=127.0.0.1:${DEMO_MODBUS_PORT:-15020}
mkdir -p "$DIR"
# A fresh outbox: the demo's broker is new too, so nothing is owed to it.
rm -f "$DIR/tty" "$DIR/outbox.db"

# Every child runs in the background and the script waits for it, so a
# signal is handled at once, in any phase: cleanup stops every child,
# newest first, and the script exits.
pids=()
# The demo's own output: a step's redirection (sim > normal.csv) is in
# force while a signal's trap runs, so cleanup writes here.
exec {out}>&1
cleanup() {
  trap - INT TERM EXIT
  echo >&"$out"
  echo "demo: stopping" >&"$out"
  # The agent first, so it can publish its offline status to the broker.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  # A child started just as the signal came, before its pid was noted.
  for p in $(jobs -p); do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT
# step runs one command to its end, as the foreground would, but
# interruptibly; its output goes where the caller redirects step's.
step() {
  "$@" & pids+=($!)
  local rc=0
  wait "${pids[-1]}" || rc=$?
  unset 'pids[-1]'
  return $rc
}

echo "demo: training a model on ten simulated hours of healthy pump data"
# Ten simulated hours at one sample a second cover the pump's slow thermal
# and load drifts far better than one hour at ten samples a second.
step "$BIN/vigil" sim --fast --for "${DEMO_TRAIN_FOR:-10h}" --rate 1 --seed 7 > "$DIR/normal.csv"
step "$BIN/vigil" train -q --data "$DIR/normal.csv" --out "$DIR/pump.vgm" --name demo-pump
step "$BIN/vigil" inspect "$DIR/pump.vgm" > "$DIR/inspect.txt"
sed -n '1,5p' "$DIR/inspect.txt"

cat > "$DIR/agent.yaml" <<YAML
site: demo
device: pump-1
channels: [Accelerometer1RMS, Accelerometer2RMS, Current, Pressure, Temperature, Thermocouple, Voltage, Volume Flow RateRMS]
model:
  path: $DIR/pump.vgm
  allow_unsigned: true
source:
$(if [ -n "$MODBUS" ]; then
  echo "  modbus:"
  if [ "$MODBUS" = tcp ]; then echo "    address: $MODBUS_ADDR"; else echo "    device: $DIR/tty"; fi
  echo "    interval: 100ms"
  echo "    registers:"
  i=0
  for ch in Accelerometer1RMS Accelerometer2RMS Current Pressure Temperature Thermocouple Voltage "Volume Flow RateRMS"; do
    echo "      - {channel: $ch, slave: 1, address: $((2*i)), type: float32}"
    i=$((i+1))
  done
else
  echo "  serial:"
  echo "    device: $DIR/tty"
  echo "    baud: 115200"
fi)
mqtt:
  broker: tcp://127.0.0.1:$PORT
outbox:
  path: $DIR/outbox.db
YAML

# The broker runs in a session of its own so that Ctrl-C, which the
# terminal sends to every process of the demo, reaches it only through
# cleanup, after the agent has published its offline status.
setsid "$BIN/vigil" broker --addr "127.0.0.1:$PORT" & pids+=($!)
"$BIN/vigil" watch --broker "tcp://127.0.0.1:$PORT" & pids+=($!)

fault_flags=()
for f in $FAULTS; do fault_flags+=(--fault "$f"); done
case "$MODBUS" in
tcp)
  "$BIN/vigil" sim --modbus-tcp "$MODBUS_ADDR" --seed 42 "${fault_flags[@]}" & pids+=($!)
  step sleep 0.5 ;;
rtu)
  "$BIN/vigil" sim --modbus-rtu --link "$DIR/tty" --seed 42 "${fault_flags[@]}" & pids+=($!) ;;
*)
  "$BIN/vigil" sim --pty --link "$DIR/tty" --seed 42 "${fault_flags[@]}" >/dev/null & pids+=($!) ;;
esac
if [ "$MODBUS" != tcp ]; then
  for _ in $(seq 50); do [ -e "$DIR/tty" ] && break; step sleep 0.1; done
  [ -e "$DIR/tty" ] || { echo "demo: the simulator did not create $DIR/tty" >&2; exit 1; }
fi

echo "demo: faults scheduled: $FAULTS (Ctrl-C to stop)"
"$BIN/vigil-agent" --config "$DIR/agent.yaml" 2> "$DIR/agent.log" & pids+=($!)
wait "${pids[-1]}"
