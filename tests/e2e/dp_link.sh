#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_link: kapa-dp mirrors link state across a bridge, as a cable would.
#
# 1. The client namespace's eth0 goes down: within a second the server
#    namespace's eth0 has no carrier (kapa-dp took its port 1, ke-link-s,
#    down: "port 0 link down: port 1 taken down with it"). Up again: the
#    carrier comes back ("port 0 link up: port 1 brought back up"), and
#    traffic flows (ping, curl).
# 2. The same the other way: the server's eth0 down takes the client's
#    carrier; up brings it back.
# 3. A kept-alive connection opened before the flaps carries a request after
#    them (kapa-dp kept its state; nothing was reset).
# kapa-dp printed exactly those four lines about links (a port it took down
# itself is never taken for a cause), all mbufs back.
#
# Linux drops an interface's IPv6 addresses when it is set down, unless
# keep_addr_on_down is set: set here, so that IPv6 works after the flaps.
#
# Usage: dp_link.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init link
e2e_dp_init "${1:-}"

e2e_topo_up
e2e_client sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
e2e_server sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
e2e_nginx_start
e2e_dp_start --policy mode=observe
e2e_wait_path

# carrier_is NS VALUE: the eth0 of namespace NS shows carrier VALUE (1 or 0).
carrier_is() {
	[[ $(ip netns exec "$1" cat /sys/class/net/eth0/carrier 2>/dev/null) == "$2" ]]
}

# flap SIDE PEER: set SIDE's eth0 down, expect PEER's carrier gone within 1 s,
# set it up, expect PEER's carrier back.
flap() {
	local side=$1 peer=$2 t0 dt
	carrier_is "$peer" 1 || fail "$peer/eth0 has no carrier before the test"
	ip netns exec "$side" ip link set dev eth0 down
	t0=$(_e2e_now_ms)
	e2e_wait_for 1 carrier_is "$peer" 0 ||
		fail "$side/eth0 down: $peer/eth0 still has its carrier after 1 s: $(ip netns exec "$peer" ip -br link show dev eth0)"
	dt=$(($(_e2e_now_ms) - t0))
	ip netns exec "$peer" ip link show dev eth0 | grep -q 'NO-CARRIER' ||
		fail "$peer/eth0 does not show NO-CARRIER: $(ip netns exec "$peer" ip link show dev eth0)"
	e2e_log "ok: $side/eth0 down: $peer/eth0 NO-CARRIER after $dt ms"
	sleep 0.5
	ip netns exec "$side" ip link set dev eth0 up
	t0=$(_e2e_now_ms)
	e2e_wait_for 5 carrier_is "$peer" 1 ||
		fail "$side/eth0 up: $peer/eth0 has no carrier after 5 s: $(ip netns exec "$peer" ip -br link show dev eth0)"
	e2e_log "ok: $side/eth0 up: $peer/eth0 carrier back after $(($(_e2e_now_ms) - t0)) ms"
	e2e_wait_path
	got=$(e2e_curl -o /dev/null -w '%{http_code} %{size_download}' "$E2E_URL4/size/4344")
	e2e_expect_eq "curl after the flap of $side/eth0" "$got" "200 4344"
}

# A connection that lives across the flaps.
out=$E2E_DIR/client.out
e2e_spawn client client "$out" python3 "$E2E_LIB_DIR/http_client.py" "$E2E_V4_S" \
	--www "$E2E_NGINX_DIR/www" /size/1448 sleep=8 /size/2896
e2e_log_wait 1 5 || fail "nginx logged no request from http_client.py"

flap "$E2E_NS_C" "$E2E_NS_S"
flap "$E2E_NS_S" "$E2E_NS_C"

e2e_wait client 15 || fail "http_client.py: a request failed: $(cat "$out")"
got=$(e2e_jrec "$out" --show '"%s/%s/%s" % (r["status"], r["conn"], r["body_ok"])' --join ' ')
e2e_expect_eq "a kept-alive connection across the flaps: status/connection/body" "$got" \
	"200/1/True 200/1/True"

e2e_bridge_check
e2e_dp_stop
got=$(grep -E '^kapa-dp: port [0-9]+ link' "$E2E_BRIDGE_LOG" | tr '\n' '|')
e2e_expect_eq "kapa-dp's lines about links" "$got" \
	"kapa-dp: port 0 link down: port 1 taken down with it|kapa-dp: port 0 link up: port 1 brought back up|kapa-dp: port 1 link down: port 0 taken down with it|kapa-dp: port 1 link up: port 0 brought back up|"
e2e_dp_expect rst_sent == 0
e2e_dp_expect http_requests == 4 "the kept-alive connection's 2, curl's 2"
pass
