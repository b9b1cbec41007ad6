#!/usr/bin/env bash
# Load test of integration/examples/microservice.rs, as the failing servers were tested:
# a real load generator (ApacheBench) sends REQUESTS requests over loopback,
# then we check one enriched JSON line per request, the same open fd and
# thread counts before and after the load, and no error lines.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-16}
PORT=${PORT:-18089}
command -v ab >/dev/null || { echo "ab (apache2-utils) is required" >&2; exit 1; }

cargo build --release -p slog-host-integration --example microservice
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# LOG_FLOOD=off: the access log is one call site at tens of thousands of
# records per second, which the flood guard (100/1s by default) would sample.
LOG_FLOOD=off LOG_FORMAT=json RUST_LOG=info ADDR=127.0.0.1:$PORT POD_NAME=load-test-pod \
  target/release/examples/microservice >"$work/out.jsonl" 2>"$work/err.txt" &
pid=$!

for _ in $(seq 200); do
  grep -q '"msg":"listening"' "$work/out.jsonl" 2>/dev/null && break
  sleep 0.05
done
grep -q '"msg":"listening"' "$work/out.jsonl" || { echo "service did not start" >&2; cat "$work/err.txt" >&2; exit 1; }

count() { ls "/proc/$pid/$1" | wc -l; }
fds_before=$(count fd); threads_before=$(count task)

ab -q -k -n "$REQUESTS" -c "$CONCURRENCY" "http://127.0.0.1:$PORT/orders/42" >"$work/ab.txt"
complete=$(awk '/^Complete requests:/ {print $3}' "$work/ab.txt")
failed=$(awk '/^Failed requests:/ {print $3}' "$work/ab.txt")
non2xx=$(awk '/^Non-2xx responses:/ {print $3}' "$work/ab.txt")
rps=$(awk '/^Requests per second:/ {print $4}' "$work/ab.txt")

# Closed keep-alive connections take a moment to be reaped by the server.
for _ in $(seq 100); do
  [ "$(count fd)" -eq "$fds_before" ] && [ "$(count task)" -eq "$threads_before" ] && break
  sleep 0.05
done
fds_after=$(count fd); threads_after=$(count task)

kill -TERM "$pid"
status=0
wait "$pid" || status=$?

python3 - "$work/out.jsonl" "$pid" "$complete" <<'PY'
import json, sys
path, pid, complete = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
requests = traced = errors = 0
for n, line in enumerate(open(path), 1):
    rec = json.loads(line)  # every line must be JSON
    for key in ("ts", "level", "msg", "host.name", "process.pid", "service.name"):
        assert key in rec, f"line {n} lacks {key}: {line}"
    assert rec["process.pid"] == pid, line
    assert rec["k8s.pod.name"] == "load-test-pod", line
    assert "target" in rec, f"line {n} lacks target: {line}"
    if rec["level"] in ("ERROR", "FATAL", "WARN"):
        errors += 1
    if rec["msg"] == "request done":
        assert rec["http.status_code"] == 200, line
        assert rec["target"] == "microservice", line
        requests += 1
    if rec["msg"] == "finished processing request":
        # tower-http's TraceLayer, through tracing: the span's fields on the record
        assert rec["method"] == "GET" and rec["uri"] == "/orders/42", line
        assert rec["target"] == "tower_http::trace::on_response", line
        assert rec["status"] == 200 and "latency" in rec, line
        traced += 1
print(f"request lines: {requests}, TraceLayer lines: {traced} (ab completed {complete}); error/warning lines: {errors}")
assert requests == complete, "one slog line per request"
assert traced == complete, "one tracing line per request"
assert errors == 0, "no error lines"
PY

echo "ab: $complete complete, $failed failed, ${non2xx:-0} non-2xx, $rps requests/s"
echo "fds: $fds_before before, $fds_after after; threads: $threads_before before, $threads_after after"
echo "exit status after SIGTERM: $status; stderr bytes: $(wc -c <"$work/err.txt")"
[ "$complete" -ge 20000 ] || { echo "FAILED: fewer than 20000 requests" >&2; exit 1; }
[ "$failed" -eq 0 ] && [ -z "$non2xx" ] || { echo "FAILED: failed or non-2xx requests" >&2; exit 1; }
[ "$fds_before" -eq "$fds_after" ] || { echo "FAILED: fd count changed" >&2; exit 1; }
[ "$threads_before" -eq "$threads_after" ] || { echo "FAILED: thread count changed" >&2; exit 1; }
[ "$status" -eq 0 ] || { echo "FAILED: service exit status $status" >&2; exit 1; }
[ ! -s "$work/err.txt" ] || { echo "FAILED: service wrote to stderr:" >&2; cat "$work/err.txt" >&2; exit 1; }
echo "load test passed"
