# shellcheck shell=bash
# shellcheck disable=SC2034 # the E2E_* variables are for the tests that source this
# SPDX-License-Identifier: BSD-3-Clause
#
# tests/e2e/lib.sh — the harness of the end-to-end suite (meson suite 'e2e').
# Sourced by every test script (bash, root). A test reads:
#
#	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#	e2e_init smoke                  # names, temp dir, the one cleanup trap
#	e2e_topo_up                     # client ns -- bridge -- server ns
#	e2e_nginx_start                 # nginx (+ slow backend) in the server ns
#	e2e_capture_start client client # dumpcap in each namespace
#	e2e_capture_start server server
#	e2e_bridge_start                # kapa-dp (or its stand-in), until ready
#	e2e_wait_path
#	e2e_curl -o /dev/null "$E2E_URL4/" || fail "curl through the bridge"
#	...
#	pass
#
# A test of kapa-dp itself (dp_*.sh, given kapa-dp's path by meson) starts it
# with e2e_dp_start (its options after the usual ones) instead of
# e2e_bridge_start, stops it with e2e_dp_stop (which checks its exit and that
# every mbuf came back, and reads its counters) and checks counters with
# e2e_dp_expect; http_client.py reports request by request what a kept-alive
# connection carried; e2e_lossy drops data segments at random (lossy.bpf.c).
#
# Topology (names from the test's tag, unique per test):
#
#   ns kapa-TAG-c        root namespace                    ns kapa-TAG-s
#   eth0 198.18.0.1/24 --- ke-TAG-c  [bridge]  ke-TAG-s --- eth0 198.18.0.2/24
#   fd00:6b61:7061::1/64     (DPDK ports 0 and 1,         fd00:6b61:7061::2/64
#                             net_af_packet)
#
# The root-side ends have no address and IPv6 disabled, so the kernel sends
# nothing of its own through the bridge; they are promiscuous. Offloads are off
# on all four ends so that the bridge sees the segments TCP sent.
#
# Every process the test starts through this file is recorded by pid; one
# cleanup (e2e_cleanup, trapped on EXIT INT TERM) stops them, deletes the
# namespaces and veths and removes the temp files, whether the test passed,
# failed or was interrupted. A test passes only by calling pass: ending
# without it, a failed command (set -e), a failed precondition or a signal all
# end in a FAIL line and exit status 1. Nothing here ever skips (exit 77).
#
# Environment:
#   KAPA_BRIDGE_CMD    the bridge command (default: dpdk-testpmd, io forwarding);
#                      the word @EAL@ stands for the EAL arguments (file prefix,
#                      vdevs), else they are inserted after the first word
#   KAPA_BRIDGE_READY  regex of the bridge's readiness line (default: from the
#                      program: "kapa-dp: forwarding", testpmd's own)
#   E2E_KEEP=1         keep the temp dir (logs, captures) after the test
#   KAPA_DP            kapa-dp for the dp_* tests when no argument names it
#                      (default: this tree's build/dataplane/dp/kapa-dp)
#   E2E_DP_HUGEPAGES   free 2 MiB hugepages a dp_* test requires (default 128)
#   E2E_NGINX_KEEPALIVE, E2E_NGINX_REQUESTS, E2E_NGINX_WORKERS, E2E_NGINX_EXTRA,
#   E2E_NGINX_SIZES    nginx settings (see e2e_nginx_start)

[[ -n ${E2E_LIB_LOADED:-} ]] && return 0
E2E_LIB_LOADED=1

set -Eeuo pipefail

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Addressing, the same in every test (each test has its own namespaces).
E2E_V4_C=198.18.0.1
E2E_V4_S=198.18.0.2
E2E_V6_C=fd00:6b61:7061::1
E2E_V6_S=fd00:6b61:7061::2
E2E_MAC_C=02:6b:61:70:61:01
E2E_MAC_S=02:6b:61:70:61:02
E2E_HTTP_PORT=80
E2E_BACKEND_PORT=8081
E2E_URL4=http://$E2E_V4_S
E2E_URL6=http://[$E2E_V6_S]

# Response body sizes nginx serves as /size/N: around one, two, three and ten
# segments of payload (1448 bytes a segment over IPv4 with timestamps, 1428
# over IPv6), and a few plain sizes.
E2E_NGINX_SIZES_DEFAULT="0 1 100 1024 1427 1428 1429 1447 1448 1449 2855 2856 2857
	2895 2896 2897 4343 4344 4345 14480 65536 1048576"

declare -A E2E_PID=()      # name -> pid of every process still running
declare -A E2E_PLOG=()     # name -> its log file
declare -A E2E_CAP_FILE=() # capture name -> pcap file
E2E_ORDER=()               # names in start order
E2E_TAG=
E2E_DIR=
E2E_PASSED=0
E2E_FAIL_REPORTED=0
E2E_CLEANING=0
E2E_LOG_MARK=0
E2E_STOP_RC=0
E2E_STOP_KILLED=0
E2E_KEEP_DIR=0
E2E_BRIDGE_OLD_LOGS=()     # logs of earlier kapa-dp runs in this test (e2e_dp_start)
declare -A E2E_DPC=()      # kapa-dp's final counters, name -> value (e2e_dp_stop)

# ---- printing and verdicts ------------------------------------------------------

_e2e_now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# e2e_elapsed: seconds since e2e_init, as S.mmm.
e2e_elapsed() {
	local ms=$(($(_e2e_now_ms) - ${E2E_START_MS:-$(_e2e_now_ms)}))
	printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# The test's own stdout and stderr, saved by e2e_init: harness messages go
# there even from inside $(...) or a redirected call (bash runs a trap with
# the redirections of the command it interrupted still in force).
E2E_OUT_FD=1
E2E_ERR_FD=2

# e2e_log MSG...: one progress line, with the tag and the time since e2e_init
# (to the test's stdout, never into a caller's $(...)).
e2e_log() {
	printf '[e2e %s +%ss] %s\n' "${E2E_TAG:-?}" "$(e2e_elapsed)" "$*" >&"$E2E_OUT_FD"
}

# pass [MSG]: the test passed; prints PASS and exits 0 (cleanup follows).
pass() {
	E2E_PASSED=1
	e2e_log "all checks passed${1:+: $*}"
	printf '\nPASS: %s\n' "$E2E_TAG" >&"$E2E_OUT_FD"
	exit 0
}

# fail MSG: the test failed; prints FAIL: TAG: MSG and the tails of the bridge's
# and nginx's logs, and exits 1 (cleanup follows).
fail() {
	E2E_FAIL_REPORTED=1
	printf '\nFAIL: %s: %s\n' "${E2E_TAG:-?}" "$*" >&"$E2E_ERR_FD"
	_e2e_diagnostics >&"$E2E_ERR_FD"
	exit 1
}

# e2e_expect_eq WHAT GOT WANT: fail unless GOT equals WANT (as strings).
e2e_expect_eq() {
	[[ $2 == "$3" ]] || fail "$1: got '$2', expected '$3'"
	e2e_log "ok: $1 = $2"
}

# Tails of the logs that usually tell why (printed by fail, before cleanup).
# A kapa-dp still running is stopped first (SIGTERM), so that its log ends with
# its counters; a kapa-dp log is shown whole but for its counters, of which
# only the nonzero ones are listed.
_e2e_diagnostics() {
	local f
	if e2e_alive bridge && _e2e_is_kapa_dp_log "${E2E_PLOG[bridge]:-}"; then
		echo "--- stopping kapa-dp (SIGTERM) for its counters"
		e2e_stop bridge 10 >/dev/null
	fi
	for f in "${E2E_BRIDGE_OLD_LOGS[@]}" "${E2E_PLOG[bridge]:-}"; do
		[[ -n $f && -s $f ]] || continue
		if _e2e_is_kapa_dp_log "$f"; then
			echo "--- $f (kapa-dp's log; its nonzero counters at the end):"
			_e2e_dp_log_digest "$f" | sed 's/^/    /'
		else
			echo "--- last lines of $f:"
			tail -n 15 "$f" | sed 's/^/    /'
		fi
	done
	f=${E2E_DIR:+$E2E_DIR/nginx/error.log}
	if [[ -n $f && -s $f ]]; then
		echo "--- last lines of $f:"
		tail -n 15 "$f" | sed 's/^/    /'
	fi
	[[ -n $E2E_DIR && -d $E2E_DIR ]] &&
		echo "--- all logs and captures: $E2E_DIR (kept only with E2E_KEEP=1)"
	return 0
}

# Reports a command that failed under set -e (the EXIT trap then says FAIL).
_e2e_on_err() {
	((E2E_CLEANING)) && return 0
	printf 'e2e: error: command "%s" failed with status %d (%s line %s)\n' \
		"$2" "$1" "$3" "$4" >&"$E2E_ERR_FD"
}

# ---- set-up, preconditions ------------------------------------------------------

# Every name derived from the tag.
_e2e_names() {
	E2E_TAG=$1
	E2E_NS_C=kapa-$1-c
	E2E_NS_S=kapa-$1-s
	E2E_IF_C=ke-$1-c
	E2E_IF_S=ke-$1-s
	E2E_PREFIX=kapa-e2e-$1
	E2E_MAP_ROOT=/sys/fs/bpf/kapa-e2e-$1
}

# e2e_init TAG: start a test: TAG (1-8 of [a-z0-9]) names its namespaces
# (kapa-TAG-c, kapa-TAG-s), root-side veths (ke-TAG-c, ke-TAG-s), DPDK file
# prefix (kapa-e2e-TAG), map root (/sys/fs/bpf/kapa-e2e-TAG) and temp dir
# ($TMPDIR/kapa-e2e-TAG). Registers e2e_cleanup on EXIT INT TERM, requires
# root and the base tools, and removes whatever an earlier run of the same
# test left behind (a run killed with SIGKILL cannot clean up after itself).
e2e_init() {
	local tag=${1:-} sig
	if ! [[ $tag =~ ^[a-z0-9]{1,8}$ ]]; then
		printf 'FAIL: e2e_init: tag "%s" must be 1 to 8 of [a-z0-9]\n' "$tag" >&2
		exit 1
	fi
	E2E_START_MS=$(_e2e_now_ms)
	_e2e_names "$tag"
	E2E_DIR=${TMPDIR:-/tmp}/kapa-e2e-$tag
	exec {E2E_OUT_FD}>&1 {E2E_ERR_FD}>&2
	for sig in EXIT INT TERM; do
		# shellcheck disable=SC2064 # the signal's name is fixed now
		trap "e2e_cleanup $sig" "$sig"
	done
	trap '_e2e_on_err $? "$BASH_COMMAND" "${BASH_SOURCE[0]##*/}" "$LINENO"' ERR

	e2e_require_root
	e2e_require_cmd ip ethtool sysctl python3 nginx dumpcap curl findmnt setsid
	_e2e_remove_stale
	mkdir -m 0700 "$E2E_DIR"
	e2e_log "test '$tag': namespaces $E2E_NS_C, $E2E_NS_S; veths $E2E_IF_C, $E2E_IF_S; dir $E2E_DIR"
}

# e2e_require_root: FAIL unless running as root.
e2e_require_root() {
	[[ $EUID -eq 0 ]] ||
		fail "precondition: the e2e suite needs root (namespaces, veths, DPDK); run it with sudo"
}

# e2e_require_cmd CMD...: FAIL unless every CMD is on PATH.
e2e_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			fail "precondition: '$c' is not installed (scripts/install-deps.sh installs what the suites need)"
	done
}

# e2e_require_hugepages [N]: FAIL unless hugetlbfs is mounted and N (default
# 256) 2 MiB hugepages are free.
e2e_require_hugepages() {
	local want=${1:-256} free
	local sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
	[[ -r $sysfs ]] || fail "precondition: no 2 MiB hugepage support ($sysfs missing)"
	free=$(<"$sysfs")
	((free >= want)) ||
		fail "precondition: $want free 2 MiB hugepages needed, $free free (run scripts/host-prep.sh; KAPA_HUGEPAGES=N for more)"
	findmnt -n -t hugetlbfs >/dev/null ||
		fail "precondition: hugetlbfs is not mounted (run scripts/host-prep.sh)"
}

# e2e_require_bpffs: FAIL unless bpffs is mounted on /sys/fs/bpf.
e2e_require_bpffs() {
	[[ $(findmnt -n -o FSTYPE --mountpoint /sys/fs/bpf 2>/dev/null) == bpf ]] ||
		fail "precondition: bpffs is not mounted on /sys/fs/bpf (run scripts/host-prep.sh)"
}

# Kills, by pid, the processes inside namespace $1 (they can only be ours).
_e2e_ns_kill_all() {
	local ns=$1 pids i
	pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
	[[ -n ${pids// /} ]] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		[[ -n ${pids// /} ]] || return 0
		sleep 0.1
	done
	e2e_log "cleanup: killing what still runs in $ns: $pids"
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	sleep 0.2
	return 0
}

# Pids of the processes holding files of our DPDK runtime dir (a bridge left by
# a run that was killed): the file prefix is this test's alone.
_e2e_prefix_pids() {
	local rt=/var/run/dpdk/$E2E_PREFIX
	[[ -d $rt ]] || return 0
	# find fails on processes that end while it reads /proc: not an error here.
	{ find /proc/[0-9]*/fd -maxdepth 1 -lname "$rt/*" 2>/dev/null || true; } |
		sed -E 's|^/proc/([0-9]+)/.*|\1|' | sort -u
}

# Removes what an earlier run of this test left (same tag, same names).
_e2e_remove_stale() {
	local found=() ns ifn pids
	pids=$(_e2e_prefix_pids | tr '\n' ' ')
	if [[ -n ${pids// /} ]]; then
		found+=("bridge pids $pids")
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
		sleep 0.2
	fi
	for ifn in "$E2E_IF_C" "$E2E_IF_S"; do
		if ip link show dev "$ifn" &>/dev/null; then
			found+=("veth $ifn")
			ip link del dev "$ifn" 2>/dev/null || true
		fi
	done
	for ns in "$E2E_NS_C" "$E2E_NS_S"; do
		if [[ -e /run/netns/$ns ]]; then
			found+=("namespace $ns")
			_e2e_ns_kill_all "$ns"
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	[[ -e $E2E_DIR ]] && found+=("$E2E_DIR")
	_e2e_remove_files
	((${#found[@]} == 0)) || e2e_log "removed what an earlier run left: ${found[*]}"
	return 0
}

# The files a run creates outside its temp dir, and the temp dir.
_e2e_remove_files() {
	rm -rf "/var/run/dpdk/$E2E_PREFIX"
	rm -f /dev/hugepages/"$E2E_PREFIX"map_* 2>/dev/null || true
	[[ -e $E2E_MAP_ROOT ]] && rm -rf "$E2E_MAP_ROOT"
	# kapa-dp's lock of the map root (dataplane/dp/main.c, lock_map_root).
	rm -f "/run/kapa/kapa-dp${E2E_MAP_ROOT//\//_}.lock"
	[[ -n $E2E_DIR && -e $E2E_DIR ]] && rm -rf "$E2E_DIR"
	return 0
}

# ---- topology --------------------------------------------------------------------

# e2e_client CMD...: run CMD in the client namespace (curl, wrk, ab, ...).
e2e_client() {
	ip netns exec "$E2E_NS_C" "$@"
}

# e2e_server CMD...: run CMD in the server namespace.
e2e_server() {
	ip netns exec "$E2E_NS_S" "$@"
}

# Turns offloads off on interface $2 in namespace $1 ("" = root) and checks the
# ones TCP segments depend on ended off. Refusals are logged, not fatal, unless
# one of those stayed on. The VLAN ones (802.1Q and 802.1ad tags kept in skb
# metadata instead of the frame; DPDK's af_packet re-inserts a tag as 0x8100)
# are turned off for the tests with tags; veth on this kernel accepts all.
_e2e_offloads_off() {
	local ns=$1 ifn=$2 feat refused=() state
	local -a in=()
	[[ -n $ns ]] && in=(ip netns exec "$ns")
	for feat in tso gso gro lro tx rx rxvlan txvlan \
		tx-vlan-stag-hw-insert rx-vlan-stag-hw-parse; do
		"${in[@]}" ethtool -K "$ifn" "$feat" off &>/dev/null || refused+=("$feat")
	done
	((${#refused[@]} == 0)) ||
		e2e_log "offloads: ${ns:-root}/$ifn refused to turn off: ${refused[*]}"
	state=$("${in[@]}" ethtool -k "$ifn")
	for feat in tcp-segmentation-offload generic-segmentation-offload \
		generic-receive-offload large-receive-offload tx-checksumming rx-checksumming; do
		grep -q "^$feat: off" <<<"$state" ||
			fail "offloads: $feat is still on for ${ns:-root}/$ifn: the bridge would not see real segments"
	done
}

# One side: namespace $1, root-side veth $2, namespace end eth0 with MAC $3,
# IPv4 $4, IPv6 $5.
_e2e_side_up() {
	local ns=$1 ifn=$2 mac=$3 v4=$4 v6=$5
	ip link add "$ifn" type veth peer name eth0 netns "$ns"
	# Before the link is up: no link-local address, no MLD or RS from the root side.
	sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1"
	ip link set dev "$ifn" promisc on
	_e2e_offloads_off "" "$ifn"
	ip netns exec "$ns" ip link set dev lo up
	ip netns exec "$ns" ip link set dev eth0 address "$mac"
	ip netns exec "$ns" ip addr add "$v4/24" dev eth0
	ip netns exec "$ns" ip -6 addr add "$v6/64" dev eth0 nodad
	_e2e_offloads_off "$ns" eth0
	ip link set dev "$ifn" up
	ip netns exec "$ns" ip link set dev eth0 up
}

# e2e_topo_up: create both namespaces and veth pairs, addresses, offloads off
# (see the top of this file). The bridge is not started.
e2e_topo_up() {
	ip netns add "$E2E_NS_C"
	ip netns add "$E2E_NS_S"
	_e2e_side_up "$E2E_NS_C" "$E2E_IF_C" "$E2E_MAC_C" "$E2E_V4_C" "$E2E_V6_C"
	_e2e_side_up "$E2E_NS_S" "$E2E_IF_S" "$E2E_MAC_S" "$E2E_V4_S" "$E2E_V6_S"
	e2e_log "topology up: $E2E_NS_C/eth0 ($E2E_V4_C, $E2E_V6_C) - $E2E_IF_C | $E2E_IF_S - $E2E_NS_S/eth0 ($E2E_V4_S, $E2E_V6_S)"
}

# e2e_topo_direct: the client and server namespaces joined by one veth pair
# straight between them (eth0 on each side, IPv4 only, offloads off), no
# bridge: for tests where a capture of the path is what is measured.
# e2e_topo_down deletes the namespaces, and with them the pair.
e2e_topo_direct() {
	local side ns v4
	ip netns add "$E2E_NS_C"
	ip netns add "$E2E_NS_S"
	ip link add eth0 netns "$E2E_NS_C" type veth peer name eth0 netns "$E2E_NS_S"
	for side in C S; do
		ns=E2E_NS_$side
		v4=E2E_V4_$side
		ip netns exec "${!ns}" ip link set dev lo up
		ip netns exec "${!ns}" ip addr add "${!v4}/24" dev eth0
		ip netns exec "${!ns}" ip link set dev eth0 up
		_e2e_offloads_off "${!ns}" eth0
	done
	e2e_wait_for 10 _e2e_ping_ok "$E2E_V4_S" || fail "no path from the client to $E2E_V4_S"
	e2e_log "topology up: $E2E_NS_C/eth0 ($E2E_V4_C) - $E2E_NS_S/eth0 ($E2E_V4_S), direct"
}

# e2e_topo_down: delete the veths and namespaces, after killing (by pid)
# anything still running inside the namespaces. Safe to call twice.
e2e_topo_down() {
	local ns ifn
	for ns in "$E2E_NS_C" "$E2E_NS_S"; do
		[[ -e /run/netns/$ns ]] && _e2e_ns_kill_all "$ns"
	done
	# Deleting one end deletes the pair at once; deleting a namespace only
	# queues the deletion of the veths in it.
	for ifn in "$E2E_IF_C" "$E2E_IF_S"; do
		ip link show dev "$ifn" &>/dev/null && ip link del dev "$ifn"
	done
	for ns in "$E2E_NS_C" "$E2E_NS_S"; do
		[[ -e /run/netns/$ns ]] && ip netns del "$ns"
	done
	return 0
}

# e2e_wait_for TIMEOUT CMD...: run CMD every 0.1 s until it succeeds (return 0)
# or TIMEOUT (whole) seconds pass (return 1).
e2e_wait_for() {
	local deadline=$(($(_e2e_now_ms) + $1 * 1000))
	shift
	until "$@"; do
		(($(_e2e_now_ms) < deadline)) || return 1
		sleep 0.1
	done
}

# One ICMP echo from the client (this machine has no ping: ping.py).
_e2e_ping_ok() {
	e2e_client python3 "$E2E_LIB_DIR/ping.py" --timeout 1 "$1" &>/dev/null
}

# e2e_wait_path [TIMEOUT]: FAIL unless the client reaches the server through
# the bridge, over IPv4 and IPv6, within TIMEOUT seconds (default 15).
e2e_wait_path() {
	local t=${1:-15} addr
	for addr in "$E2E_V4_S" "$E2E_V6_S"; do
		e2e_wait_for "$t" _e2e_ping_ok "$addr" ||
			fail "no path from the client to $addr through the bridge within ${t}s"
	done
	e2e_log "path up: client reaches $E2E_V4_S and $E2E_V6_S through the bridge"
}

# ---- processes -------------------------------------------------------------------

# e2e_spawn NAME WHERE LOG CMD...: start CMD in the background, in WHERE
# (client, server, root or a namespace's name), stdout and stderr to LOG;
# records its pid as NAME (ip netns exec execs, so the pid is CMD's own).
e2e_spawn() {
	local name=$1 where=$2 log=$3
	local -a in=()
	shift 3
	[[ -z ${E2E_PID[$name]:-} ]] || fail "e2e_spawn: '$name' is already running"
	case $where in
	root) ;;
	client) in=(ip netns exec "$E2E_NS_C") ;;
	server) in=(ip netns exec "$E2E_NS_S") ;;
	*) in=(ip netns exec "$where") ;;
	esac
	# Without the saved descriptors: a process that outlived the test would
	# hold meson's pipe open.
	"${in[@]}" "$@" >"$log" 2>&1 </dev/null {E2E_OUT_FD}>&- {E2E_ERR_FD}>&- &
	E2E_PID[$name]=$!
	E2E_PLOG[$name]=$log
	E2E_ORDER+=("$name")
	e2e_log "started $name (pid $!, $where): $*"
}

# e2e_pid NAME: print the pid of NAME (empty when not running).
e2e_pid() {
	echo "${E2E_PID[$1]:-}"
}

# e2e_alive NAME: true while NAME's process runs.
e2e_alive() {
	local pid=${E2E_PID[$1]:-}
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# e2e_wait NAME [TIMEOUT]: wait until NAME (started with e2e_spawn) ends by
# itself, at most TIMEOUT seconds (default 60; then it is stopped and this
# FAILs); reaps it and returns its exit status.
e2e_wait() {
	local name=$1 pid=${E2E_PID[$1]:-} rc=0
	[[ -n $pid ]] || fail "e2e_wait: '$name' is not running"
	e2e_wait_for "${2:-60}" _e2e_gone "$pid" || {
		e2e_stop "$name" 2
		fail "$name (pid $pid) did not end within ${2:-60}s"
	}
	wait "$pid" 2>/dev/null || rc=$?
	unset "E2E_PID[$name]"
	e2e_log "$name (pid $pid) ended: exit status $rc"
	return "$rc"
}

_e2e_gone() {
	! kill -0 "$1" 2>/dev/null
}

# e2e_wait_log FILE REGEX TIMEOUT [NAME]: wait for a line matching REGEX
# (grep -E) in FILE; FAIL after TIMEOUT seconds or as soon as process NAME has
# exited without printing it.
e2e_wait_log() {
	local file=$1 re=$2 t=$3 name=${4:-}
	local deadline=$(($(_e2e_now_ms) + t * 1000))
	until grep -Eq -- "$re" "$file" 2>/dev/null; do
		if [[ -n $name ]] && ! e2e_alive "$name"; then
			fail "$name exited before printing /$re/; the end of $file:
$(tail -n 8 "$file" 2>/dev/null | sed 's/^/    /')"
		fi
		(($(_e2e_now_ms) < deadline)) || fail "no /$re/ in $file after ${t}s; its end:
$(tail -n 8 "$file" 2>/dev/null | sed 's/^/    /')"
		sleep 0.1
	done
}

# e2e_stop NAME [TIMEOUT]: stop NAME by its pid: SIGTERM, then SIGKILL after
# TIMEOUT seconds (default 10); reaps it. Sets E2E_STOP_RC (its exit status,
# 128+N when killed by signal N) and E2E_STOP_KILLED (1 when SIGKILL was
# needed). Returns 0 (also when it had exited already).
e2e_stop() {
	local name=$1 t=${2:-10} pid=${E2E_PID[$1]:-} t0 deadline
	E2E_STOP_RC=0
	E2E_STOP_KILLED=0
	[[ -n $pid ]] || return 0
	t0=$(_e2e_now_ms)
	deadline=$((t0 + t * 1000))
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do
		if (($(_e2e_now_ms) >= deadline)); then
			e2e_log "$name (pid $pid) still runs ${t}s after SIGTERM: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			E2E_STOP_KILLED=1
			break
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || E2E_STOP_RC=$?
	unset "E2E_PID[$name]"
	e2e_log "stopped $name (pid $pid): exit status $E2E_STOP_RC after $(($(_e2e_now_ms) - t0)) ms"
	return 0
}

# ---- nginx -------------------------------------------------------------------------

# e2e_nginx_start: start Debian's nginx in the server namespace from
# nginx.conf.in, with everything in $E2E_DIR/nginx (E2E_NGINX_DIR): its pid
# file, error.log, access.log (E2E_ACCESS_LOG, format in nginx.conf.in),
# www/ with /size/N files of N bytes for every N in E2E_NGINX_SIZES (default
# E2E_NGINX_SIZES_DEFAULT) and /index.html, /nginx_status (stub_status, over
# the namespace's loopback only), and /slow/ proxied unbuffered to
# slow_backend.py (started first, as 'backend'):
#   /slow/headers?delay=S&size=N       headers only after S seconds
#   /slow/stall?size=N&at=K&delay=S    K body bytes, S seconds of nothing, the rest
# Settings: E2E_NGINX_KEEPALIVE (keepalive_timeout's arguments, default 300s),
# E2E_NGINX_REQUESTS (keepalive_requests, default 100000), E2E_NGINX_WORKERS
# (default 1), E2E_NGINX_EXTRA (directives added to the server block).
# Returns once nginx answers; FAILs if it does not within 10 s.
e2e_nginx_start() {
	local d=$E2E_DIR/nginx
	E2E_NGINX_DIR=$d
	E2E_ACCESS_LOG=$d/access.log
	mkdir -p "$d/www/size" "$d/tmp"
	echo "kapa e2e" >"$d/www/index.html"
	: >"$E2E_ACCESS_LOG"
	# The files, and the configuration from its template (in python: a value
	# may hold any character, which sed and bash's ${//} would interpret).
	DIR=$d WORKERS=${E2E_NGINX_WORKERS:-1} KEEPALIVE_TIMEOUT=${E2E_NGINX_KEEPALIVE:-300s} \
		KEEPALIVE_REQUESTS=${E2E_NGINX_REQUESTS:-100000} PORT=$E2E_HTTP_PORT \
		BACKEND_PORT=$E2E_BACKEND_PORT EXTRA=${E2E_NGINX_EXTRA:-} \
		SIZES=${E2E_NGINX_SIZES:-$E2E_NGINX_SIZES_DEFAULT} \
		python3 - "$E2E_LIB_DIR/nginx.conf.in" "$d/nginx.conf" <<-'EOF'
			import os, re, sys
			pattern = b"kapa-e2e body bytes "
			for n in map(int, os.environ["SIZES"].split()):
			    with open("%s/www/size/%d" % (os.environ["DIR"], n), "wb") as f:
			        f.write((pattern * (n // len(pattern) + 1))[:n])
			conf = open(sys.argv[1]).read()
			names = "DIR|WORKERS|KEEPALIVE_TIMEOUT|KEEPALIVE_REQUESTS|PORT|BACKEND_PORT|EXTRA"
			conf = re.sub(r"@(%s)@" % names, lambda m: os.environ[m.group(1)], conf)
			open(sys.argv[2], "w").write(conf)
		EOF
	e2e_server nginx -t -q -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" ||
		fail "nginx -t refused $d/nginx.conf (see $d/error.log)"

	e2e_spawn backend server "$d/backend.log" \
		python3 -u "$E2E_LIB_DIR/slow_backend.py" --port "$E2E_BACKEND_PORT"
	e2e_wait_log "$d/backend.log" '^slow_backend: listening' 10 backend
	e2e_spawn nginx server "$d/nginx.out" \
		nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log"
	e2e_wait_for 10 _e2e_nginx_up || fail "nginx did not answer within 10 s (see $d/error.log)"
	e2e_log "nginx up (keepalive_timeout ${E2E_NGINX_KEEPALIVE:-300s}, keepalive_requests ${E2E_NGINX_REQUESTS:-100000})"
}

_e2e_nginx_up() {
	e2e_alive nginx || fail "nginx exited at start (see $E2E_NGINX_DIR/error.log)"
	e2e_nginx_status &>/dev/null
}

# e2e_nginx_stop: stop nginx (SIGTERM: fast shutdown) and the slow backend.
e2e_nginx_stop() {
	e2e_stop nginx
	e2e_stop backend
}

# e2e_nginx_status: print nginx's stub_status page (read over the server
# namespace's loopback, so it neither crosses the bridge nor is logged).
e2e_nginx_status() {
	# Connection: close, or every poll leaves an info line in error.log.
	e2e_server curl -sS -f --noproxy '*' --max-time 5 -H 'Connection: close' \
		"http://127.0.0.1:$E2E_HTTP_PORT/nginx_status"
}

# e2e_nginx_active: print stub_status's "Active connections" (it counts the
# status request's own connection).
e2e_nginx_active() {
	e2e_nginx_status | awk '/^Active connections:/ { print $3 }'
}

_e2e_active_is() {
	E2E_NGINX_ACTIVE=$(e2e_nginx_active 2>/dev/null) || E2E_NGINX_ACTIVE='?'
	[[ $E2E_NGINX_ACTIVE == "$1" ]]
}

# e2e_nginx_wait_active N [TIMEOUT]: wait until stub_status shows N active
# connections (default TIMEOUT 10 s); returns 1 if it does not, with the last
# value seen in E2E_NGINX_ACTIVE.
e2e_nginx_wait_active() {
	e2e_wait_for "${2:-10}" _e2e_active_is "$1"
}

# ---- nginx's access log: the count of requests ---------------------------------------

# e2e_log_mark: later e2e_log_* calls read only the lines written after this.
e2e_log_mark() {
	E2E_LOG_MARK=$(wc -l <"$E2E_ACCESS_LOG")
}

# e2e_log_count [--path PREFIX] [--status CODE]: print the number of requests
# logged since the mark.
e2e_log_count() {
	python3 "$E2E_LIB_DIR/access_log.py" "$E2E_ACCESS_LOG" --skip "$E2E_LOG_MARK" "$@" count
}

# e2e_log_conns [filters]: print "CONN REQUESTS CLIENT:PORT" for each
# connection with requests since the mark (nginx's $connection), in order.
e2e_log_conns() {
	python3 "$E2E_LIB_DIR/access_log.py" "$E2E_ACCESS_LOG" --skip "$E2E_LOG_MARK" "$@" conns
}

# e2e_log_summary [filters]: print requests, connections, requests per
# connection and statuses since the mark.
e2e_log_summary() {
	python3 "$E2E_LIB_DIR/access_log.py" "$E2E_ACCESS_LOG" --skip "$E2E_LOG_MARK" "$@" summary
}

_e2e_log_reached() {
	E2E_LOG_N=$(e2e_log_count "${@:2}")
	((E2E_LOG_N >= $1))
}

# e2e_log_wait N [TIMEOUT [filters]]: wait until at least N requests are logged
# since the mark (nginx logs a request just after its response is sent, so a
# client may finish first); E2E_LOG_N holds the count; returns 1 on timeout.
e2e_log_wait() {
	e2e_wait_for "${2:-5}" _e2e_log_reached "$1" "${@:3}"
}

# ---- clients -----------------------------------------------------------------------

# e2e_curl ARGS...: curl in the client namespace (no proxy, -sS, 30 s limit).
e2e_curl() {
	e2e_client curl -sS --noproxy '*' --max-time "${E2E_CURL_TIMEOUT:-30}" "$@"
}

# e2e_wrk OUT ARGS...: wrk in the client namespace, its output to OUT (and the
# log). Sets E2E_WRK_REQUESTS (completed requests, as wrk counts them),
# E2E_WRK_SOCKET_ERRORS (connect+read+write+timeout) and E2E_WRK_NON2XX.
e2e_wrk() {
	local out=$1
	shift
	e2e_client wrk "$@" >"$out" 2>&1 || fail "wrk $* failed: $(tail -n 3 "$out")"
	sed 's/^/    wrk| /' "$out" >&"$E2E_OUT_FD"
	E2E_WRK_REQUESTS=$(awk '/ requests in / { print $1 }' "$out")
	[[ -n $E2E_WRK_REQUESTS ]] || fail "wrk printed no request count (see $out)"
	E2E_WRK_SOCKET_ERRORS=$(awk -F'[ ,]+' '/Socket errors:/ {
		for (i = 1; i < NF; i++) if ($i ~ /^(connect|read|write|timeout)$/) s += $(i + 1)
	} END { print s + 0 }' "$out")
	E2E_WRK_NON2XX=$(awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$out")
}

# e2e_ab OUT ARGS...: ab (ApacheBench) in the client namespace, its output to
# OUT. Sets E2E_AB_COMPLETE, E2E_AB_FAILED, E2E_AB_KEEPALIVE (requests on a
# reused connection, with -k) and E2E_AB_NON2XX.
e2e_ab() {
	local out=$1
	shift
	e2e_client ab "$@" >"$out" 2>&1 || fail "ab $* failed: $(tail -n 3 "$out")"
	E2E_AB_COMPLETE=$(awk '/^Complete requests:/ { print $3 }' "$out")
	[[ -n $E2E_AB_COMPLETE ]] || fail "ab printed no request count (see $out)"
	E2E_AB_FAILED=$(awk '/^Failed requests:/ { print $3 }' "$out")
	E2E_AB_KEEPALIVE=$(awk '/^Keep-Alive requests:/ { n = $3 } END { print n + 0 }' "$out")
	E2E_AB_NON2XX=$(awk '/^Non-2xx responses:/ { n = $3 } END { print n + 0 }' "$out")
	e2e_log "ab: $E2E_AB_COMPLETE complete, $E2E_AB_FAILED failed, $E2E_AB_KEEPALIVE keep-alive, $E2E_AB_NON2XX non-2xx"
}

# ---- the bridge ------------------------------------------------------------------

# e2e_eal_args: set E2E_EAL to the EAL arguments that put DPDK ports 0 and 1 on
# the client- and server-side veths (net_af_packet) under this test's file prefix.
# E2E_PMD=pcap puts them on net_pcap instead (libpcap on each veth, inbound
# frames only): net_af_packet's sockets join a fanout group with
# PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles IP fragments before
# kapa-dp sees them; a test of fragments needs the frames as they were sent.
e2e_eal_args() {
	E2E_EAL=(--no-pci --file-prefix "$E2E_PREFIX")
	if [[ ${E2E_PMD:-af_packet} == pcap ]]; then
		E2E_EAL+=(--vdev "net_pcap0,rx_iface_in=$E2E_IF_C,tx_iface=$E2E_IF_C"
			--vdev "net_pcap1,rx_iface_in=$E2E_IF_S,tx_iface=$E2E_IF_S")
	else
		E2E_EAL+=(--vdev "net_af_packet0,iface=$E2E_IF_C"
			--vdev "net_af_packet1,iface=$E2E_IF_S")
	fi
}

# e2e_bridge_start [CMD...]: start the bridge in the root namespace as
# 'bridge', log in $E2E_DIR/bridge.log, and wait (KAPA_BRIDGE_READY_TIMEOUT,
# default 30 s) for its readiness line. CMD defaults to $KAPA_BRIDGE_CMD, else
# dpdk-testpmd in io forwarding mode. The word @EAL@ in CMD is replaced by the
# EAL arguments (e2e_eal_args); without one they go after CMD's first word.
# Readiness: $KAPA_BRIDGE_READY, else "^kapa-dp: forwarding" for kapa-dp and
# testpmd's "... start packet forwarding".
e2e_bridge_start() {
	local -a cmd=() words=()
	local w ready=${KAPA_BRIDGE_READY:-} eal_at=0 t0
	if (($#)); then
		words=("$@")
	elif [[ -n ${KAPA_BRIDGE_CMD:-} ]]; then
		read -r -a words <<<"$KAPA_BRIDGE_CMD"
	else
		words=(dpdk-testpmd @EAL@ --no-huge -m 512 --
			--forward-mode=io -a --stats-period 5 --total-num-mbufs=16384)
	fi
	e2e_eal_args
	for w in "${words[@]}"; do
		if [[ $w == @EAL@ ]]; then
			cmd+=("${E2E_EAL[@]}")
			eal_at=1
		else
			cmd+=("$w")
		fi
		if [[ -z $ready ]]; then
			case ${w##*/} in
			kapa-dp) ready='^kapa-dp: forwarding' ;;
			dpdk-testpmd | testpmd) ready='start packet forwarding$' ;;
			esac
		fi
	done
	((eal_at)) || cmd=("${cmd[0]}" "${E2E_EAL[@]}" "${cmd[@]:1}")
	[[ -n $ready ]] || fail "KAPA_BRIDGE_READY must say which line tells that '${words[0]}' is ready"
	E2E_BRIDGE_LOG=$E2E_DIR/bridge.log
	t0=$(_e2e_now_ms)
	e2e_spawn bridge root "$E2E_BRIDGE_LOG" "${cmd[@]}"
	e2e_wait_log "$E2E_BRIDGE_LOG" "$ready" "${KAPA_BRIDGE_READY_TIMEOUT:-30}" bridge
	e2e_log "bridge ready after $(($(_e2e_now_ms) - t0)) ms (/$ready/)"
}

# e2e_bridge_check: FAIL if the bridge has exited (it should run until stopped).
e2e_bridge_check() {
	e2e_alive bridge || fail "the bridge exited while the test ran (see $E2E_BRIDGE_LOG)"
}

# e2e_bridge_stop [TIMEOUT]: stop the bridge by its pid (SIGTERM, SIGKILL after
# TIMEOUT s, default 15). Sets E2E_BRIDGE_RC (exit status) and
# E2E_BRIDGE_KILLED (1 when it did not stop on SIGTERM).
e2e_bridge_stop() {
	e2e_stop bridge "${1:-15}"
	E2E_BRIDGE_RC=$E2E_STOP_RC
	E2E_BRIDGE_KILLED=$E2E_STOP_KILLED
}

# e2e_bridge_counters: print kapa-dp's final counters ("name value" lines
# after "kapa-dp: counters" in its log); nothing for a bridge that prints none.
e2e_bridge_counters() {
	awk '/^kapa-dp: counters$/ { on = 1; next } on && NF == 2 && $2 ~ /^[0-9]+$/ { print }' \
		"$E2E_BRIDGE_LOG"
}

# e2e_bridge_counter NAME: print one final counter's value (empty if absent).
e2e_bridge_counter() {
	e2e_bridge_counters | awk -v n="$1" '$1 == n { print $2 }'
}

# ---- kapa-dp ---------------------------------------------------------------------

# e2e_dp_init [KAPA_DP]: the preconditions of a test of kapa-dp: the program
# (the argument, which meson passes; else $KAPA_DP; else this tree's
# build/dataplane/dp/kapa-dp) as E2E_KAPA_DP, E2E_DP_HUGEPAGES free 2 MiB
# hugepages (default 128: one kapa-dp with --max-conns 65536 takes about 30
# of them, 50 with two workers) and bpffs.
e2e_dp_init() {
	E2E_KAPA_DP=${1:-${KAPA_DP:-$E2E_LIB_DIR/../../build/dataplane/dp/kapa-dp}}
	[[ -x $E2E_KAPA_DP ]] ||
		fail "precondition: kapa-dp not found at $E2E_KAPA_DP (ninja -C build; KAPA_DP=PATH)"
	e2e_require_hugepages "${E2E_DP_HUGEPAGES:-128}"
	e2e_require_bpffs
}

_e2e_is_kapa_dp_log() {
	[[ -n $1 && -s $1 ]] && grep -q '^kapa-dp: ' "$1"
}

# A kapa-dp log without its counters, then the nonzero counters, five a line.
_e2e_dp_log_digest() {
	awk '/^kapa-dp: counters$/ { on = 1; next }
		on && NF == 2 && $2 ~ /^[0-9]+$/ { if ($2 != 0) c[n++] = $1 "=" $2; next }
		{ print }
		END {
			if (on) print "kapa-dp: nonzero counters:"
			for (i = 0; i < n; i++) printf "%s%s", c[i], (i % 5 == 4 || i == n - 1) ? "\n" : "  "
		}' "$1"
}

# e2e_dp_start [--workers 1|2] [OPTION...]: start kapa-dp (E2E_KAPA_DP) as the
# bridge ('bridge', see e2e_bridge_start) between ports 0 (client side) and 1
# (server side), with one worker (-l 0,1) or two sharing the second core
# (--lcores '0@0,(1,2)@1'), --idle-sleep-us 50 (the servers and clients need
# the cores too), --max-conns 65536 (hugepages are few), the test's map root,
# and the OPTIONs (--policy, --rule, ...; a repeated option overrides these).
# A second start in one test (after e2e_dp_stop or e2e_dp_kill9) keeps the
# earlier log as bridge.N.log (shown on failure too).
e2e_dp_start() {
	# shellcheck disable=SC2054 # "0,1" is one EAL core list
	local -a lcores=(-l 0,1)
	local old
	if [[ ${1:-} == --workers ]]; then
		case $2 in
		1) ;;
		2) lcores=(--lcores '0@0,(1,2)@1') ;;
		*) fail "e2e_dp_start: --workers $2: 1 or 2" ;;
		esac
		shift 2
	fi
	if [[ -e $E2E_DIR/bridge.log ]]; then
		old=$E2E_DIR/bridge.$((${#E2E_BRIDGE_OLD_LOGS[@]} + 1)).log
		mv "$E2E_DIR/bridge.log" "$old"
		E2E_BRIDGE_OLD_LOGS+=("$old")
	fi
	E2E_DPC=()
	e2e_bridge_start "$E2E_KAPA_DP" "${lcores[@]}" @EAL@ -- --bridge 0:1 \
		--idle-sleep-us 50 --max-conns 65536 --map-root "$E2E_MAP_ROOT" "$@"
}

# e2e_dp_kill9: kill kapa-dp with SIGKILL (as a crash would end it) and reap it.
e2e_dp_kill9() {
	local pid=${E2E_PID[bridge]:-}
	[[ -n $pid ]] || fail "e2e_dp_kill9: kapa-dp is not running"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	unset "E2E_PID[bridge]"
	e2e_log "killed kapa-dp (pid $pid) with SIGKILL"
}

# e2e_dp_stop: stop kapa-dp (SIGTERM) and FAIL unless it stopped on it with
# status 0, printed its counters and "mbufs N of N back in the pool" (an mbuf
# not returned is a leak). Reads the counters into E2E_DPC (name -> value) and
# prints the nonzero ones.
e2e_dp_stop() {
	local line n m
	e2e_bridge_stop 15
	((E2E_BRIDGE_KILLED == 0)) || fail "kapa-dp did not stop within 15 s of SIGTERM"
	[[ $E2E_BRIDGE_RC == 0 ]] || fail "kapa-dp exited with status $E2E_BRIDGE_RC on SIGTERM"
	line=$(grep -E '^kapa-dp: mbufs [0-9]+ of [0-9]+ back in the pool' "$E2E_BRIDGE_LOG") ||
		fail "kapa-dp printed no 'mbufs N of M back in the pool' line"
	read -r n m < <(sed -E 's/^kapa-dp: mbufs ([0-9]+) of ([0-9]+).*/\1 \2/' <<<"$line")
	((n == m)) || fail "kapa-dp: only $n of $m mbufs back in the pool (a leak): '$line'"
	e2e_log "ok: kapa-dp stopped on SIGTERM, status 0, mbufs $n of $m back in the pool"
	E2E_DPC=()
	while read -r line n; do
		E2E_DPC[$line]=$n
	done < <(e2e_bridge_counters)
	((${#E2E_DPC[@]} > 0)) || fail "kapa-dp printed no counters"
	_e2e_dp_log_digest "$E2E_BRIDGE_LOG" | sed '1,/^kapa-dp: nonzero counters:$/d; s/^/    counters| /'
}

# e2e_dp_counter NAME: print kapa-dp's final counter NAME (FAIL if it printed none).
e2e_dp_counter() {
	[[ -n ${E2E_DPC[$1]:-} ]] || fail "kapa-dp printed no counter '$1'"
	echo "${E2E_DPC[$1]}"
}

# e2e_dp_expect NAME OP VALUE [WHY]: FAIL unless kapa-dp's final counter NAME
# OP VALUE holds (OP: == != < <= > >=).
e2e_dp_expect() {
	local name=$1 op=$2 want=$3 why=${4:-} got ok=0
	[[ -n ${E2E_DPC[$name]:-} ]] || fail "kapa-dp printed no counter '$name'"
	got=${E2E_DPC[$name]}
	case $op in
	'==') ((got == want)) && ok=1 ;;
	'!=') ((got != want)) && ok=1 ;;
	'<') ((got < want)) && ok=1 ;;
	'<=') ((got <= want)) && ok=1 ;;
	'>') ((got > want)) && ok=1 ;;
	'>=') ((got >= want)) && ok=1 ;;
	*) fail "e2e_dp_expect: unknown operator '$op'" ;;
	esac
	((ok)) || fail "kapa-dp counter $name = $got, expected $op $want${why:+ ($why)}"
	e2e_log "ok: kapa-dp $name = $got ($op $want)${why:+ ($why)}"
}

# e2e_dp_telemetry CMD: send CMD (e.g. /kapa/stats,1) to the running kapa-dp's
# telemetry socket and print the reply's value as JSON (one line).
e2e_dp_telemetry() {
	python3 - "/var/run/dpdk/$E2E_PREFIX/dpdk_telemetry.v2" "$1" <<-'EOF'
		import json, socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
		s.connect(sys.argv[1])
		s.recv(4096)  # the greeting
		s.send(sys.argv[2].encode())
		reply = json.loads(s.recv(1 << 20))
		print(json.dumps(reply[sys.argv[2].split(",")[0]]))
	EOF
}

# e2e_http_client OUT ARGS...: http_client.py in the client namespace (its
# usage says what ARGS are), JSON lines to OUT; returns its status (0: every
# request answered).
e2e_http_client() {
	local out=$1
	shift
	e2e_client python3 "$E2E_LIB_DIR/http_client.py" "$@" >"$out"
}

# e2e_jrec FILE [--where EXPR] [--show EXPR] [--join SEP] [--count]: select
# and show records of a JSON-lines FILE (http_client.py's reports) with
# Python expressions over r (jrec.py).
e2e_jrec() {
	python3 "$E2E_LIB_DIR/jrec.py" "$@"
}

# ---- loss ---------------------------------------------------------------------------

# e2e_lossy WHERE DIR ONE_IN: drop about one in ONE_IN TCP segments that carry
# data, at random, on eth0 of WHERE (client or server) in direction DIR
# (egress or ingress), with lossy.bpf.c under tc (built on first use into
# $E2E_DIR; needs clang). Segments without data always pass.
e2e_lossy() {
	local where=$1 dir=$2 one_in=$3 obj=$E2E_DIR/lossy.$3.o
	local -a in=(ip netns exec "$E2E_NS_C")
	[[ $where == server ]] && in=(ip netns exec "$E2E_NS_S")
	if [[ ! -e $obj ]]; then
		e2e_require_cmd clang tc
		clang -O2 -g -target bpf -DLOSSY_ONE_IN="$one_in" -I/usr/include/x86_64-linux-gnu \
			-c "$E2E_LIB_DIR/lossy.bpf.c" -o "$obj" ||
			fail "clang could not build lossy.bpf.c"
	fi
	"${in[@]}" tc qdisc replace dev eth0 clsact
	"${in[@]}" tc filter replace dev eth0 "$dir" bpf direct-action obj "$obj" sec tc ||
		fail "tc refused lossy.bpf.c on $where/eth0 $dir"
	e2e_log "loss on $where/eth0 $dir: about 1 in $one_in data segments dropped"
}

# e2e_lossy_off WHERE: no more loss on eth0 of WHERE.
e2e_lossy_off() {
	local -a in=(ip netns exec "$E2E_NS_C")
	[[ $1 == server ]] && in=(ip netns exec "$E2E_NS_S")
	"${in[@]}" tc qdisc del dev eth0 clsact 2>/dev/null || true
	e2e_log "loss on $1/eth0 off"
}

# ---- captures ------------------------------------------------------------------------

# e2e_capture_start NAME WHERE [IFACE [FILTER]]: dumpcap on IFACE (default
# eth0) in WHERE (client, server, root, a namespace) into
# $E2E_DIR/NAME.pcap (pcap, whole frames, 64 MiB buffer); returns once
# dumpcap captures.
e2e_capture_start() {
	local name=$1 where=$2 ifn=${3:-eth0} filter=${4:-}
	local file=$E2E_DIR/$name.pcap
	local -a f=()
	[[ -n $filter ]] && f=(-f "$filter")
	E2E_CAP_FILE[$name]=$file
	e2e_spawn "cap-$name" "$where" "$E2E_DIR/$name.dumpcap.log" \
		dumpcap -i "$ifn" -P -B 64 -w "$file" "${f[@]}"
	e2e_wait_log "$E2E_DIR/$name.dumpcap.log" '^Capturing on' 10 "cap-$name"
}

# e2e_capture_stop NAME [SETTLE]: after SETTLE seconds (default 0.5, for frames
# still on their way), stop the capture by its pid; dumpcap flushes its file
# as it exits. FAILs if dumpcap dropped frames (a comparison would be void).
# Sets E2E_CAP_FRAMES.
e2e_capture_stop() {
	local name=$1 log=$E2E_DIR/$1.dumpcap.log stats dropped
	sleep "${2:-0.5}"
	e2e_stop "cap-$name"
	stats=$(grep -E '^Packets received/dropped' "$log" | tail -n 1) ||
		fail "capture $name: dumpcap printed no statistics (see $log)"
	E2E_CAP_FRAMES=$(sed -E 's|.*: ([0-9]+)/([0-9]+).*|\1|' <<<"$stats")
	dropped=$(sed -E 's|.*: ([0-9]+)/([0-9]+).*|\2|' <<<"$stats")
	((dropped == 0)) || fail "capture $name: dumpcap dropped $dropped frames ($stats)"
	e2e_log "capture $name: $E2E_CAP_FRAMES frames, none dropped (${E2E_CAP_FILE[$name]})"
}

# e2e_capture_file NAME: print the capture's file.
e2e_capture_file() {
	echo "${E2E_CAP_FILE[$1]}"
}

# e2e_pcap_compare A B [--src ADDR ...] [--dst ADDR ...]: compare one direction
# of captures A and B (names) byte for byte with pcap_compare.py; prints its
# report; returns its status (0 identical, 1 different, 2 unreadable) and sets
# E2E_PCAP_FRAMES to the number of identical frames (0 unless identical).
e2e_pcap_compare() {
	local a=${E2E_CAP_FILE[$1]} b=${E2E_CAP_FILE[$2]} out=$E2E_DIR/pcap_compare.out rc=0
	shift 2
	python3 "$E2E_LIB_DIR/pcap_compare.py" "$a" "$b" "$@" >"$out" 2>&1 || rc=$?
	sed 's/^/    /' "$out" >&"$E2E_OUT_FD"
	E2E_PCAP_FRAMES=$(sed -nE 's/^pcap_compare: identical \(([0-9]+) frames\)$/\1/p' "$out")
	E2E_PCAP_FRAMES=${E2E_PCAP_FRAMES:-0}
	return "$rc"
}

# ---- the one cleanup ------------------------------------------------------------------

# The teardown: stops every process in E2E_PID, newest first, by pid (SIGTERM,
# SIGKILL after 5 s); kills anything left inside the namespaces; deletes the
# veths and namespaces; removes the DPDK runtime files, the map root and the
# temp dir (moved to DIR.kept with E2E_KEEP=1).
_e2e_teardown() {
	local name pid i alive keep
	for ((i = ${#E2E_ORDER[@]} - 1; i >= 0; i--)); do
		pid=${E2E_PID[${E2E_ORDER[i]}]:-}
		[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		alive=0
		for pid in "${E2E_PID[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.1
	done
	for ((i = ${#E2E_ORDER[@]} - 1; i >= 0; i--)); do
		name=${E2E_ORDER[i]}
		pid=${E2E_PID[$name]:-}
		[[ -n $pid ]] || continue
		if kill -0 "$pid" 2>/dev/null; then
			e2e_log "cleanup: $name (pid $pid) ignored SIGTERM: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
		e2e_log "cleanup: stopped $name (pid $pid)"
		unset "E2E_PID[$name]"
	done
	[[ -n $E2E_TAG && $EUID -eq 0 ]] || return 0
	e2e_topo_down
	if [[ $E2E_KEEP_DIR == 1 && -d $E2E_DIR ]]; then
		keep=$E2E_DIR.kept
		rm -rf "$keep" && mv "$E2E_DIR" "$keep" && e2e_log "cleanup: kept $keep"
	fi
	_e2e_remove_files
}

# The teardown in a session of its own (see e2e_cleanup): run as
# bash -c 'source lib.sh; _e2e_teardown_detached TAG START_MS KEEP DIR NAME=PID...'.
_e2e_teardown_detached() {
	local np
	set +eEu
	trap - ERR
	trap '' PIPE HUP INT TERM
	_e2e_names "$1"
	E2E_START_MS=$2
	E2E_KEEP_DIR=$3
	E2E_DIR=$4
	shift 4
	for np in "$@"; do
		E2E_ORDER+=("${np%%=*}")
		E2E_PID[${np%%=*}]=${np#*=}
	done
	_e2e_teardown
}

# e2e_cleanup WHY: trapped on EXIT, INT and TERM (e2e_init); runs once. The
# teardown (_e2e_teardown: every process by pid, namespaces, veths, files),
# then the verdict: a signal, a failed command, a test that did not call
# pass, or anything left behind is a FAIL with exit status 1.
# On a signal the teardown runs in a new session and this shell waits for it:
# meson SIGKILLs a test's whole process group 0.5 s after its SIGTERM, which
# would otherwise cut the teardown short.
e2e_cleanup() {
	local rc=$? why=$1 name pid pairs=() left=()
	((E2E_CLEANING)) && return 0
	E2E_CLEANING=1
	exec 1>&"$E2E_OUT_FD" 2>&"$E2E_ERR_FD"
	set +eE
	trap - ERR
	trap '' INT TERM
	if [[ $why != EXIT ]]; then
		printf '\nFAIL: %s: interrupted by SIG%s\n' "$E2E_TAG" "$why" >&2
		E2E_FAIL_REPORTED=1
		rc=1
	fi
	E2E_KEEP_DIR=${E2E_KEEP:-0}

	if [[ $why == EXIT || -z $E2E_TAG ]]; then
		_e2e_teardown
	else
		for name in "${E2E_ORDER[@]}"; do
			[[ -n ${E2E_PID[$name]:-} ]] && pairs+=("$name=${E2E_PID[$name]}")
		done
		# shellcheck disable=SC2016 # expanded by the new bash
		setsid -w bash -c 'source "$1"; shift; _e2e_teardown_detached "$@"' _ \
			"$E2E_LIB_DIR/lib.sh" "$E2E_TAG" "$E2E_START_MS" "$E2E_KEEP_DIR" "$E2E_DIR" \
			"${pairs[@]}"
		for pid in "${E2E_PID[@]}"; do
			wait "$pid" 2>/dev/null # reaped here: they were this shell's children
		done
		E2E_PID=()
	fi

	if [[ -n $E2E_TAG && $EUID -eq 0 ]]; then
		for name in "$E2E_NS_C" "$E2E_NS_S"; do
			[[ -e /run/netns/$name ]] && left+=("namespace $name")
		done
		for name in "$E2E_IF_C" "$E2E_IF_S"; do
			ip link show dev "$name" &>/dev/null && left+=("veth $name")
		done
		[[ -e $E2E_DIR ]] && left+=("$E2E_DIR")
	fi
	if ((${#left[@]})); then
		printf 'FAIL: %s: cleanup left behind: %s\n' "$E2E_TAG" "${left[*]}" >&2
		rc=1
	elif ((rc == 0 && !E2E_PASSED)); then
		printf 'FAIL: %s: the test ended without calling pass\n' "$E2E_TAG" >&2
		rc=1
	elif ((rc != 0 && !E2E_FAIL_REPORTED)); then
		printf 'FAIL: %s: exit status %d (a command failed, see above)\n' "$E2E_TAG" "$rc" >&2
		rc=1
	fi
	e2e_log "cleanup done"
	trap - EXIT
	exit "$rc"
}
