# SPDX-License-Identifier: BSD-3-Clause
#
# What check_btf.sh and xdp_check_btf.sh share (sourced, not run): read a
# BPF object's BTF once, then check that records and maps are named in it.
# Here-strings, not pipes into `grep -q`: grep exits at the first match, the
# writer then dies of SIGPIPE and pipefail turns a found name into a failure
# (seen in CI: "no map 'kapa_rules'").
#
# btf_load BPFTOOL OBJECT   sets btf_obj, btf and btf_fail=0
# btf_expect STRUCT FIELD... every field named in the struct's BTF
# btf_expect_maps MAP...    each a BTF-typed variable of .maps, at most 15
#                           characters (what the kernel keeps of a name)
# btf_done                  exit 1 on any failure, else say so

btf_load() {
	btf_obj=$2
	btf=$("$1" btf dump file "$btf_obj")
	btf_fail=0
}

btf_expect() {
	local st=$1 body f
	shift
	body=$(sed -n "/STRUCT '$st' /,/^\[/p" <<<"$btf")
	if [ -z "$body" ]; then
		echo "FAIL: no BTF for struct $st in $btf_obj"
		btf_fail=1
		return
	fi
	for f in "$@"; do
		if ! grep -q "^[[:space:]]*'$f' " <<<"$body"; then
			echo "FAIL: struct $st has no BTF field '$f'"
			btf_fail=1
		fi
	done
	echo "struct $st: $# fields checked"
}

btf_expect_maps() {
	local m
	for m in "$@"; do
		if [ ${#m} -gt 15 ]; then
			echo "FAIL: map name '$m' is longer than the kernel keeps (15)"
			btf_fail=1
		fi
		if ! grep -q "VAR '$m' " <<<"$btf"; then
			echo "FAIL: no map '$m' in $btf_obj"
			btf_fail=1
		fi
	done
}

btf_done() {
	if [ "$btf_fail" -ne 0 ]; then
		exit 1
	fi
	echo "BTF of $btf_obj: all records and maps named"
}
