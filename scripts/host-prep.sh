#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepare this host for kapa's demo and root test suites:
#  - reserve 2 MiB hugepages (KAPA_HUGEPAGES, default 512 = 1 GiB); a larger
#    reservation already in place is left alone,
#  - mount hugetlbfs on /dev/hugepages and bpffs on /sys/fs/bpf where they are
#    not mounted.
# Idempotent: a second run changes nothing and says so. Needs root.
#
# Usage: [KAPA_HUGEPAGES=N] scripts/host-prep.sh
set -euo pipefail

want=${KAPA_HUGEPAGES:-512}
hp_sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
hp_mnt=/dev/hugepages
bpf_mnt=/sys/fs/bpf
changed=0

say() { echo "host-prep: $*"; }
die() { echo "host-prep: error: $*" >&2; exit 1; }

case "${1:-}" in
"") ;;
-h|--help)
	sed -n '3,/^[^#]/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0
	;;
*) die "unknown argument '$1' (try --help)" ;;
esac

case "$want" in
''|*[!0-9]*) die "KAPA_HUGEPAGES='$want' is not a whole number of 2 MiB pages" ;;
esac
[ "$(id -u)" -eq 0 ] || die "must run as root (hugepages and mounts); run: sudo $0"

# $1 = mount point, $2 = filesystem type; true when that type is mounted there.
mounted_as() {
	[ "$(findmnt -n -o FSTYPE --mountpoint "$1" 2>/dev/null)" = "$2" ]
}

# Hugepages: only ever raise the reservation, so that a host prepared for a
# larger run keeps it.
[ -w "$hp_sysfs" ] || die "$hp_sysfs not writable: kernel without 2 MiB hugepage support?"
have=$(cat "$hp_sysfs")
if [ "$have" -ge "$want" ]; then
	say "hugepages: $have x 2 MiB reserved (wanted $want), unchanged"
else
	echo "$want" > "$hp_sysfs"
	got=$(cat "$hp_sysfs")
	changed=1
	if [ "$got" -eq 0 ]; then
		die "hugepages: asked the kernel for $want x 2 MiB, got none (memory too fragmented? try a reboot or KAPA_HUGEPAGES lower)"
	elif [ "$got" -lt "$want" ]; then
		# Fragmented memory gives fewer; DPDK can work with what there is.
		echo "host-prep: warning: hugepages: asked for $want x 2 MiB, the kernel gave $got" >&2
	fi
	say "hugepages: reserved $got x 2 MiB (was $have)"
fi

if mounted_as "$hp_mnt" hugetlbfs; then
	say "hugetlbfs: already mounted on $hp_mnt, unchanged"
else
	mkdir -p "$hp_mnt"
	mount -t hugetlbfs -o pagesize=2M nodev "$hp_mnt" || die "could not mount hugetlbfs on $hp_mnt"
	changed=1
	say "hugetlbfs: mounted on $hp_mnt"
fi

if mounted_as "$bpf_mnt" bpf; then
	say "bpffs: already mounted on $bpf_mnt, unchanged"
else
	mkdir -p "$bpf_mnt"
	mount -t bpf bpf "$bpf_mnt" || die "could not mount bpffs on $bpf_mnt"
	changed=1
	say "bpffs: mounted on $bpf_mnt"
fi

if [ $changed -eq 0 ]; then
	say "nothing to change"
fi
