#!/bin/sh
# Trains on N local worker processes, MultiWorkerMirroredStrategy over 127.0.0.1 ports: the way to
# try multi-worker training on one machine (docs/scaling.md), e.g.
#   sh scr/train_workers.sh 2 model=ESSM batch_size=1024
# Builds the processed data once, then starts `main_func.py distribute=multi_worker` per worker with
# its own TF_CONFIG; worker 0 is the chief, which evaluates and writes the run. When a worker fails
# the others are stopped and the script fails; running the same command again resumes the run.
# Whatever ends the script (an error, Ctrl-C, kill, a closed terminal) stops its workers with it.
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
n=$1
case "$n" in
    ''|*[!0-9]*|0) echo "error: usage: sh scr/train_workers.sh N [key=value ...], N the number of workers (a positive whole number), got '$n'" >&2; exit 2 ;;
esac
shift
"$PYTHON" -m preprocessing.pipeline.build_dataset "$@"
cluster=$("$PYTHON" -c "
import json, socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(('127.0.0.1', 0))
print(json.dumps(['127.0.0.1:%d' % s.getsockname()[1] for s in sockets]))
" "$n")
pids=""
stop_all() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
}
trap 'stop_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
i=0
while [ "$i" -lt "$n" ]; do
    TF_CONFIG="{\"cluster\": {\"worker\": $cluster}, \"task\": {\"type\": \"worker\", \"index\": $i}}" \
        "$PYTHON" main_func.py "$@" distribute=multi_worker &
    echo "worker $i: pid $!" >&2
    pids="$pids $!"
    i=$((i + 1))
done
# Wait for every worker; the first that fails stops the others (they would wait for it forever).
running=$pids
while [ -n "$running" ]; do
    still=""
    for pid in $running; do
        if kill -0 "$pid" 2>/dev/null; then
            still="$still $pid"
        elif ! wait "$pid"; then
            echo "error: worker pid $pid failed; stopping the others (run the same command again to resume)" >&2
            stop_all
            wait
            exit 1
        fi
    done
    running=$still
    [ -z "$running" ] || sleep 1
done
