#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'ctl' (root): kapad, kapactl and a running kapa-dp, through the
# pinned maps and the control socket, all real processes:
#  - kapad creates and pins the maps; bpftool shows the rules by name; a
#    second kapad on the same map root is refused;
#  - kapactl round-trips every command; mistakes are refused with exit 1;
#  - a user outside kapad's group cannot connect, one inside can;
#  - kapad restarted keeps its rules;
#  - with a config file, a rule set is published only when it changes, and
#    a [rule NAME] removed from the file is deleted on SIGHUP (policy add's
#    rules stay); policy default shows and sets the default spec;
#  - kapa-dp (a capture replayed through net_pcap, so that it tracks a real
#    keep-alive connection) shows as attached, takes up a new rule and a
#    program (the delay printed), keeps the old program when a bad one is
#    refused (the verifier's reason given to the client and logged), and
#    resets a connection on `conn close`;
#  - kapactl stats --prometheus and kapad's /metrics pass promtool.
# Everything it starts is stopped by pid; its map root, socket and files are
# removed, on success and on failure.
#
# Usage: ctl_kapad.sh KAPAD KAPACTL KAPA_DP PROG_ADAPTIVE PROG_BAD_MODE PROG_BAD_OOB
set -euo pipefail
# No pipes into `grep -q` under pipefail: grep exits at its first match and
# the writer dies of SIGPIPE (tests/ctl/check_btf.sh); outputs are kept in
# variables or files first.

kapad=$1 kapactl=$2 kapa_dp=$3 prog_ok=$4 prog_bad=$5 prog_oob=$6
tag=kapa-ctltest-$$
root=/sys/fs/bpf/$tag
dir=$(mktemp -d /tmp/$tag.XXXX)
chmod 755 "$dir"	# kapad's group must reach the socket in it
sock=$dir/kapad.sock
metrics_port=$((20000 + $$ % 20000))
pids=()

fail() {
	echo "FAIL: $*"
	for f in "$dir"/*.log; do
		[ -f "$f" ] && { echo "--- $f:"; tail -n 20 "$f"; }
	done
	exit 1
}
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	# and the locks kapad and kapa-dp held on the map root (/run/kapa)
	rm -rf "$root" "$dir" "/var/run/dpdk/$tag" "/run/kapa/kapad${root//\//_}.lock" \
		"/run/kapa/kapa-dp${root//\//_}.lock"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] || fail "the ctl suite needs root (maps, sockets, DPDK)"
[ "$(findmnt -n -o FSTYPE --mountpoint /sys/fs/bpf 2>/dev/null)" = bpf ] ||
	fail "bpffs is not mounted on /sys/fs/bpf (scripts/host-prep.sh)"
for c in bpftool promtool setpriv curl python3; do
	command -v $c >/dev/null || fail "$c not installed (scripts/debian-packages.txt)"
done

ctl() { "$kapactl" -s "$sock" "$@"; }
# expect_fail STATUS CMD...: CMD must exit with STATUS
expect_fail() {
	local want=$1 rc=0
	shift
	"$@" >"$dir/out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$dir/out")"
	echo "ok: '$*' refused ($rc): $(head -n 1 "$dir/out")"
}
wait_for() {	# SECONDS CMD...
	local t=$1
	shift
	for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
start_kapad() {	# [KAPAD OPTIONS...]
	"$kapad" -s "$sock" --map-root "$root" --group nogroup \
		--metrics "127.0.0.1:$metrics_port" "$@" >>"$dir/kapad.log" 2>&1 &
	kapad_pid=$!
	pids+=("$kapad_pid")
	wait_for 10 ctl status || fail "kapad did not serve $sock"
}
stop_pid() {
	kill -TERM "$1"
	wait "$1" || fail "pid $1 did not stop cleanly"
}
gen_of() {	# the rule set's generation kapad has in force
	ctl -j policy list | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'
}
reload_kapad() {	# SIGHUP, and wait until kapad says it reloaded
	local n
	n=$(grep -c "reloaded" "$dir/kapad.log" || true)
	kill -HUP "$kapad_pid"
	wait_for 5 sh -c "[ \$(grep -c reloaded '$dir/kapad.log') -gt $n ]" ||
		fail "kapad did not reload"
}

# ---- kapad alone --------------------------------------------------------------
start_kapad
for m in kapa_meta kapa_stats kapa_rules kapa_conns kapa_ctl kapa_prog kapa_hist; do
	[ -e "$root/$m" ] || fail "kapad did not pin $m under $root"
done
echo "ok: kapad created and pinned the maps"
# A second kapad on the same map root, with a socket of its own, is refused
# (one publisher per map root), naming the first one's pid.
expect_fail 1 "$kapad" -s "$dir/second.sock" --map-root "$root"
grep -q "another kapad (pid $kapad_pid) publishes into the maps under $root" "$dir/out" ||
	fail "the second kapad's refusal: $(cat "$dir/out")"
[ ! -e "$dir/second.sock" ] || fail "the second kapad made its socket"
grep -q "attached: *no" <<<"$(ctl status)" || fail "status: a data plane attached?"
ctl policy add web --match 198.18.0.0/15:80 --timeout 30 --max 100 --mode advertise
ctl policy add tls --match '[2001:db8::/32]:443' --opaque-idle 300
grep -E '^web +198.18.0.0/15:80 +advertise +30s +100' <<<"$(ctl policy list)" ||
	fail "policy list: $(ctl policy list)"
ctl -j policy show tls | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["opaque_idle"] == 300 and r["match"] == "[2001:db8::/32]:443", r'
expect_fail 1 ctl policy add web --match 10.0.0.0/8
expect_fail 1 ctl policy add dup --match 198.18.0.0/15:80
expect_fail 1 ctl policy del nothere
expect_fail 1 ctl policy add bad --match 10.0.0.1/8
expect_fail 2 ctl policy add bad --match 10.0.0.0/8 --mode strict
expect_fail 2 ctl policy frobnicate
bpftool map dump pinned "$root/kapa_rules" >"$dir/rules.json"
grep -q '"name": "web"' "$dir/rules.json" || fail "bpftool does not show rule web by name"
echo "ok: bpftool shows the rules by name"

# Who may connect: root and kapad's group (nogroup: nobody is in it).
setpriv --reuid=nobody --regid=nogroup --clear-groups "$kapactl" -s "$sock" status >/dev/null ||
	fail "a member of kapad's group was refused"
expect_fail 3 setpriv --reuid=daemon --regid=daemon --clear-groups "$kapactl" -s "$sock" status
grep -q "permission denied\|Permission denied" "$dir/out" || fail "no permission message"

# Restarted, kapad keeps its rules (they live in the maps).
gen=$(ctl -j policy list | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
stop_pid "$kapad_pid"
start_kapad
ctl policy show web >/dev/null || fail "rule web lost when kapad restarted"
gen2=$(ctl -j policy list | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
[ "$gen" = "$gen2" ] || fail "generation $gen became $gen2 across the restart"
echo "ok: kapad restarted with rule set $gen2"

# The config file's rules: at start and on SIGHUP a new generation only when
# the set changes; a [rule NAME] removed from the file is deleted, the rules
# added with policy add (web, tls) stay.
printf '%s\n' '[rule fileonly]' 'match = 198.20.0.0/16:80' 'timeout = 10' '' \
	'[rule filekept]' 'match = 198.21.0.0/16' >"$dir/kapad.ini"
stop_pid "$kapad_pid"
start_kapad -c "$dir/kapad.ini"
g=$(gen_of)
[ "$g" = $((gen2 + 1)) ] || fail "the file's rules: generation $g, expected $((gen2 + 1))"
ctl policy show fileonly >/dev/null || fail "rule fileonly of the file not in force"
stop_pid "$kapad_pid"
start_kapad -c "$dir/kapad.ini"
[ "$(gen_of)" = "$g" ] || fail "restarted with the same file, kapad published generation $(gen_of)"
reload_kapad
[ "$(gen_of)" = "$g" ] || fail "reloaded an unchanged file, kapad published generation $(gen_of)"
sed -i '/^\[rule fileonly\]/,/^$/d' "$dir/kapad.ini"
reload_kapad
[ "$(gen_of)" = $((g + 1)) ] || fail "a rule removed from the file: generation $(gen_of), expected $((g + 1))"
expect_fail 1 ctl policy show fileonly
for r in web tls filekept; do
	ctl policy show "$r" >/dev/null || fail "rule $r lost in the reload"
done
echo "ok: the file's rules: published when changed only, a removed section deleted, policy add's kept"

# The default spec through the socket.
ctl policy default --timeout 75 --mode enforce | tee "$dir/out"
grep -q "generation $((g + 2))" "$dir/out" || fail "policy default: $(cat "$dir/out")"
ctl policy default >"$dir/out"
grep -q "^timeout: *75$" "$dir/out" && grep -q "^mode: *enforce$" "$dir/out" ||
	fail "policy default shows: $(cat "$dir/out")"
ctl policy default --mode enforce --timeout 75 >/dev/null
[ "$(gen_of)" = $((g + 2)) ] || fail "the same default again published generation $(gen_of)"
expect_fail 2 ctl policy default --mode strict
expect_fail 1 ctl policy default --timeout 1728001
reload_kapad	# a file without [defaults] keeps the socket's default
grep -E '^\(default\) +\* +enforce +75s' <<<"$(ctl policy list)" >/dev/null ||
	fail "the default after a reload: $(ctl policy list)"
gen2=$(gen_of)
echo "ok: policy default shown, set, refused when wrong, kept across a reload"

# ---- with kapa-dp -----------------------------------------------------------------
# A keep-alive exchange left open: kapa-dp tracks it once the capture is
# replayed into port 0 (port 1 drops what it is given).
python3 - "$dir/conn.pcap" <<'EOF'
import struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
C, S = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
def frame(src, dst, sp, dp, seq, ack, flags, data=b''):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    ph = src + dst + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(ph + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    mac_c, mac_s = b'\x02\0\0\0\0\x01', b'\x02\0\0\0\0\x02'
    eth = (mac_s + mac_c if src == C else mac_c + mac_s) + b'\x08\x00'
    return eth + ip + tcp
req = b'GET / HTTP/1.1\r\nHost: s\r\n\r\n'
rsp = b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok'
frames = [frame(C, S, 40000, 80, 1000, 0, 0x02), frame(S, C, 80, 40000, 5000, 1001, 0x12),
          frame(C, S, 40000, 80, 1001, 5001, 0x10), frame(C, S, 40000, 80, 1001, 5001, 0x18, req),
          frame(S, C, 80, 40000, 5001, 1001 + len(req), 0x18, rsp),
          frame(C, S, 40000, 80, 1001 + len(req), 5001 + len(rsp), 0x10)]
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack('<IIII', 1, i, len(fr), len(fr)) + fr)
EOF
"$kapa_dp" -l 0 --no-huge -m 256 --no-pci --file-prefix "$tag" \
	--vdev "net_pcap0,rx_pcap=$dir/conn.pcap,tx_pcap=$dir/out0.pcap" --vdev net_null0,no-rx=1 -- \
	--bridge 0:1 --max-conns 1024 --map-root "$root" >"$dir/kapa-dp.log" 2>&1 &
dp_pid=$!
pids+=("$dp_pid")
wait_for 20 sh -c "'$kapactl' -s '$sock' status | grep 'attached: *yes'" ||
	fail "kapa-dp did not show as attached"
grep -q "rule set $gen2 published by kapad" "$dir/kapa-dp.log" ||
	fail "kapa-dp did not take kapad's rule set over its command line"
echo "ok: kapa-dp attached, running rule set $gen2"

ctl policy add api --match 198.19.0.0/16:8080 --max 50 | tee "$dir/out"
grep -q "in force" "$dir/out" || fail "the new rule set was not taken up"
ctl policy default --timeout 60 --mode enforce | tee "$dir/out"
grep -q "in force" "$dir/out" || fail "the new default was not taken up"
ctl program load "$prog_ok" | tee "$dir/out"
grep -q "in force" "$dir/out" || fail "the program was not taken up"
pgen=$(ctl -j program show | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_force"])')
[ "$pgen" != 0 ] || fail "program show: none in force"
expect_fail 1 ctl program load "$prog_bad"
grep -q "mode 7" "$dir/out" || fail "the bad program's reason is missing: $(cat "$dir/out")"
pgen2=$(ctl -j program show | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_force"])')
[ "$pgen2" = "$pgen" ] || fail "the running program changed ($pgen -> $pgen2) after a refusal"
# Refused by rte_bpf's verifier: its own line reaches the client and kapad's log.
expect_fail 1 ctl program load "$prog_oob"
grep -q "verifier (Invalid argument: evaluate: memory boundary violation at pc: 1)" "$dir/out" ||
	fail "the verifier's reason is missing: $(cat "$dir/out")"
grep -q "program 'bad_oob.bpf.o' refused: .*memory boundary violation" "$dir/kapad.log" ||
	fail "kapad did not log the verifier's reason"
echo "ok: program $pgen in force; the bad one refused, $pgen2 still runs"

wait_for 10 sh -c "'$kapactl' -s '$sock' conns | grep '198.18.0.1:40000'" ||
	fail "conns does not list the replayed connection: $(ctl conns)"
id=$(ctl -j conns | python3 -c 'import json,sys; print(json.load(sys.stdin)["conns"][0]["id"])')
ctl conn close "$id" | tee "$dir/out"
grep -q "reset both ways" "$dir/out" || fail "conn close $id: $(cat "$dir/out")"
expect_fail 1 ctl conn close "$id"
grep -E '^ +rst_command +1$' <<<"$(ctl stats)" >/dev/null ||
	fail "rst_command is not 1: $(grep rst_command <<<"$(ctl stats)")"
echo "ok: connection $id reset on command"

ctl stats --prometheus >"$dir/prom.txt"
promtool check metrics <"$dir/prom.txt" || fail "kapactl stats --prometheus does not pass promtool"
curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$dir/metrics.txt" || fail "no /metrics"
promtool check metrics <"$dir/metrics.txt" || fail "kapad's /metrics does not pass promtool"
grep -q '^kapa_rst_command_total{worker="0"} 1$' "$dir/metrics.txt" || fail "/metrics lacks rst_command"
echo "ok: Prometheus text from kapactl and kapad passes promtool"

stop_pid "$dp_pid"
wait_for 5 sh -c "'$kapactl' -s '$sock' status | grep 'attached: *no'" ||
	fail "kapa-dp still shows as attached after it stopped"
stop_pid "$kapad_pid"
[ ! -e "$sock" ] || fail "kapad left its socket behind"
echo "PASS: ctl_kapad"
