#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# race_compliance: keep-alive hint compliance by User-Agent product, from a
# capture of curl and of Python's http.client against a server that
# announces `Keep-Alive: timeout=2, max=5` (hint_server.py, which enforces
# neither and logs what each connection did: the truth here).
#
# Workload (client namespace, one veth pair to the server namespace, dumpcap
# on the client's eth0):
#   curl: three transfers 3 s apart (--rate 20/m), then eight in a row;
#   http.client (hint_client.py): one connection reused after 0.5, 1 and 3 s,
#   another for eight requests in a row.
# kapa-inspect's report must give each product exactly the row the server's
# log implies: connections, compliant ones, reuses before and at/after T,
# requests past max (a response to request k with max=5 allows k + 5 in all:
# the sixth request is the last), idle connections the client closed
# before T.
#
# Usage: race_compliance.sh KAPA_INSPECT
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

inspect=${1:-}
[[ -x $inspect ]] || fail "usage: race_compliance.sh KAPA_INSPECT (got '${inspect}')"

e2e_init hint

e2e_topo_direct

slog=$E2E_DIR/hint_server.log
e2e_spawn server server "$slog" python3 -u "$E2E_LIB_DIR/hint_server.py" --port "$E2E_HTTP_PORT"
e2e_wait_log "$slog" '^hint_server: listening' 10 server
e2e_capture_start client client eth0 "tcp port $E2E_HTTP_PORT"

urls=()
for i in 1 2 3; do urls+=(-o /dev/null "$E2E_URL4/slow$i"); done
e2e_curl --rate 20/m "${urls[@]}" || fail "curl (3 s apart) failed"
urls=()
for i in 1 2 3 4 5 6 7 8; do urls+=(-o /dev/null "$E2E_URL4/row$i"); done
e2e_curl "${urls[@]}" || fail "curl (in a row) failed"
e2e_client python3 "$E2E_LIB_DIR/hint_client.py" "$E2E_V4_S" >"$E2E_DIR/hint_client.out" ||
	fail "hint_client.py failed (see $E2E_DIR/hint_client.out)"
# The server logs a connection's end once it reads the client's FIN.
sleep 1
e2e_capture_stop client 1
sed 's/^/    server| /' "$slog"

cap=$(e2e_capture_file client)
report=$E2E_DIR/inspect.report
"$inspect" "$cap" >"$report" || fail "kapa-inspect failed on $cap"
sed -n '/^keep-alive hint compliance/,/^$/p' "$report" | sed 's/^/    report| /'

python3 - "$slog" "$report" <<-'EOF' || fail "kapa-inspect's compliance table differs from the server's log"
	import re, sys
	T_MS, MAX = 2000, 5
	conns = {}
	for line in open(sys.argv[1]):
	    if not line.startswith(("REQ ", "CLOSE ")):
	        continue
	    f = dict(kv.split("=", 1) for kv in line.split()[1:])
	    c = conns.setdefault(f["port"], {"ua": None, "gaps": [], "n": 0, "close": None})
	    if line.startswith("REQ "):
	        c["ua"] = c["ua"] or f["ua"]
	        c["n"] = int(f["n"])
	        if int(f["gap_ms"]) >= 0:
	            c["gaps"].append(int(f["gap_ms"]))
	    elif line.startswith("CLOSE "):
	        c["close"] = int(f["idle_ms"])
	want = {}
	for c in conns.values():
	    if c["n"] == 0:
	        continue
	    if any(abs(g - T_MS) < 100 for g in c["gaps"]):
	        sys.exit("a gap within 100 ms of T: the truth is unsure (%s)" % c)
	    late = sum(g >= T_MS for g in c["gaps"])
	    over = max(0, c["n"] - (1 + MAX))
	    row = want.setdefault(c["ua"], [0] * 6)
	    row[0] += 1
	    row[1] += late == 0 and over == 0
	    row[2] += sum(g < T_MS for g in c["gaps"])
	    row[3] += late
	    row[4] += over
	    row[5] += c["close"] is not None and c["close"] < T_MS
	got = {}
	section = False
	for line in open(sys.argv[2]):
	    if line.startswith("keep-alive hint compliance"):
	        section = True
	        continue
	    if section and not line.strip():
	        break
	    m = re.match(r"^  (\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
	    if section and m:
	        got[m.group(1)] = [int(x) for x in m.groups()[1:]]
	cols = "conns compliant reuse<T reuse>=T over-max close<T"
	print("columns: %s" % cols)
	for ua in sorted(set(want) | set(got)):
	    print("%-22s server log %s, kapa-inspect %s" % (ua, want.get(ua), got.get(ua)))
	if set(want) != {"curl", "Python-http.client"}:
	    sys.exit("the server saw products %s, expected curl and Python-http.client" % sorted(want))
	sys.exit(0 if want == got else 1)
EOF

pass
