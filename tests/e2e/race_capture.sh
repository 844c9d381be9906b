#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# race_capture: kapa-inspect counts exactly the idle-close races a client saw.
#
# A client namespace and a server namespace joined by one veth pair (no
# bridge: the capture is what is measured); nginx with keepalive_timeout 1;
# race_client.py keeps four connections and reuses each after 950-1050 ms of
# idle, so that some requests reach nginx just after it closed the connection.
# The client logs every request it lost (the server's FIN or RST instead of a
# response) and sends it again on a new connection. dumpcap captures the
# client's eth0. Then kapa-inspect over the capture must report:
#   - one "race" object per lost request, no more: the same count, the same
#     client ports (a race's flow is the connection that lost it);
#   - every race retried (the client retries at once);
#   - at least 10 of them;
#   - in the report, nginx's observed idle limit: the shortest idle gap that
#     ended in its close between 0.9 and 1.1 s.
#
# Usage: race_capture.sh KAPA_INSPECT
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

inspect=${1:-}
[[ -x $inspect ]] || fail "usage: race_capture.sh KAPA_INSPECT (got '${inspect}')"

e2e_init race

e2e_topo_direct

E2E_NGINX_KEEPALIVE=1 e2e_nginx_start
e2e_capture_start client client eth0 "tcp port $E2E_HTTP_PORT"

out=$E2E_DIR/race_client.out
e2e_spawn client client "$out" python3 -u "$E2E_LIB_DIR/race_client.py" "$E2E_V4_S" \
	--threads 4 --races 14 --duration 90
e2e_wait client 120 || fail "race_client.py failed (see $out)"
e2e_capture_stop client 1.5
sed 's/^/    client| /' "$out"

summary=$(grep '^OK ' "$out") || fail "race_client.py printed no summary"
lost=$(grep -c '^FAIL ' "$out" || true)
# Requests the client could not even send (its socket already knew of the
# close) are logged STALE: nothing went on the wire, they are no race.
stale=$(grep -c '^STALE ' "$out" || true)
retried=$(($(grep -c '^RETRY ' "$out" || true) - stale))
((lost >= 10)) || fail "the client lost only $lost requests to nginx's idle close: fewer than 10 ($summary)"
e2e_log "client: $summary"

cap=$(e2e_capture_file client)
json=$E2E_DIR/inspect.json
report=$E2E_DIR/inspect.report
"$inspect" --json "$cap" >"$json" || fail "kapa-inspect --json failed on $cap"
"$inspect" "$cap" >"$report" || fail "kapa-inspect failed on $cap"

# The races kapa found, as "PORT retried", against the client's FAIL lines.
python3 - "$json" "$out" <<-'EOF' || fail "kapa-inspect's races differ from the client's failures"
	import json, re, sys
	races = [o for o in map(json.loads, open(sys.argv[1])) if "race" in o]
	client = [l for l in open(sys.argv[2]) if l.startswith("FAIL ")]
	kinds = {}
	for o in races:
	    kinds[o["race"]] = kinds.get(o["race"], 0) + 1
	    assert "dir" not in o and {"stream", "flow", "frame", "idle_ms", "retried"} <= o.keys(), o
	print("kapa-inspect: %d races (%s), %d retried; the client lost %d" % (
	    len(races), ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
	    sum(o["retried"] for o in races), len(client)))
	kapa_ports = sorted(int(re.search(r":(\d+) > ", o["flow"]).group(1)) for o in races)
	client_ports = sorted(int(re.search(r"port=(\d+)", l).group(1)) for l in client)
	ok = True
	if kapa_ports != client_ports:
	    print("client ports of the races: kapa %s, client %s" % (kapa_ports, client_ports))
	    ok = False
	if not all(o["retried"] for o in races):
	    print("races not retried: %s" % [o for o in races if not o["retried"]])
	    ok = False
	for o in races:
	    if not 900 <= o["idle_ms"] <= 1100:
	        print("race idle time out of the client's range: %s" % o)
	        ok = False
	sys.exit(0 if ok else 1)
EOF
((retried == lost)) || fail "the client retried $retried of $lost lost requests"

sed -n '/^idle-close races/,/^$/p' "$report" | sed 's/^/    report| /'
got=$(($(sed -nE "s/^  lost to (FIN|RST) +([0-9]+)$/\2/p" "$report" | paste -sd+)))
e2e_expect_eq "races in the report (FIN + RST)" "$got" "$lost"
got=$(sed -nE 's/^  retried on a new connection within 1 s +([0-9]+)$/\1/p' "$report")
e2e_expect_eq "races retried in the report" "$got" "$lost"
limit=$(sed -nE "s/^  $E2E_V4_S:$E2E_HTTP_PORT observed idle limit: shortest gap closed ([0-9]+) ms.*/\1/p" \
	"$report")
[[ -n $limit ]] || fail "the report has no observed idle limit for $E2E_V4_S:$E2E_HTTP_PORT"
((limit >= 900 && limit <= 1100)) ||
	fail "observed idle limit of nginx (keepalive_timeout 1): $limit ms, not within 0.9-1.1 s"
e2e_log "ok: $lost races, all retried, counted alike by the client and kapa-inspect; nginx's observed idle limit $limit ms"

pass
