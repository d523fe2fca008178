#!/usr/bin/env bash
# vigil end-to-end demo (run by `make demo` after the binaries are built):
#   1. simulate an hour of healthy pump data and train a model on it;
#   2. start an embedded MQTT broker on loopback;
#   3. run the pump simulator on a pseudo-terminal, with faults injected
#      from 20 s on;
#   4. run vigil-agent reading that terminal through the serial driver;
#   5. print every state change the agent publishes.
# Ctrl-C stops everything. Nothing outside .demo/ is written.
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

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  # The agent first, so it can publish its offline status to the broker.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup INT TERM EXIT

echo "demo: training a model on ten simulated hours of healthy pump data"
# Ten simulated hours at one sample a second cover the pump's slow thermal
# and load drifts far better than one hour at ten samples a second.
"$BIN/vigil" sim --fast --for 10h --rate 1 --seed 7 > "$DIR/normal.csv"
"$BIN/vigil" train -q --data "$DIR/normal.csv" --out "$DIR/pump.vgm" --name demo-pump
"$BIN/vigil" inspect "$DIR/pump.vgm" | sed -n '1,5p'

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
  sleep 0.5 ;;
rtu)
  "$BIN/vigil" sim --modbus-rtu --link "$DIR/tty" --seed 42 "${fault_flags[@]}" & pids+=($!) ;;
*)
  "$BIN/vigil" sim --pty --link "$DIR/tty" --seed 42 "${fault_flags[@]}" >/dev/null & pids+=($!) ;;
esac
if [ "$MODBUS" != tcp ]; then
  for _ in $(seq 50); do [ -e "$DIR/tty" ] && break; sleep 0.1; done
  [ -e "$DIR/tty" ] || { echo "demo: the simulator did not create $DIR/tty" >&2; exit 1; }
fi

echo "demo: faults scheduled: $FAULTS (Ctrl-C to stop)"
"$BIN/vigil-agent" --config "$DIR/agent.yaml" 2> "$DIR/agent.log" & pids+=($!)
wait "${pids[-1]}"
