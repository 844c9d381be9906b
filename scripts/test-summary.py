#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count a test run from meson's own logs and end with `N passed, N failed`.

Usage: test-summary.py [--rc N] BUILD_DIR[:SUITE[,SUITE...]]...

Each BUILD_DIR's meson-logs/testlog.json is read; with :SUITE (or
:SUITE,SUITE...) only those suites' tests are expected from it. Passed: OK and EXPECTEDFAIL. Failed:
FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, SKIP (a skipped test showed nothing:
meson also reads exit status 77, libFuzzer's crash status, as a skip), and
every test `meson introspect --tests` lists that is missing from the logs
(it could not run). Exit status 1 when anything failed, when no test ran, or
when --rc (the test command's own status) is non-zero.
"""
import json
import os
import subprocess
import sys

PASSED = {"OK", "EXPECTEDFAIL"}


def pretty(t):
    """The name meson's test log gives test t of `meson introspect --tests`."""
    suites = t.get("suite") or []
    if not suites:
        return t["name"]
    project = suites[0].split(":", 1)[0]
    names = "+".join(s.split(":", 1)[1] if ":" in s else s for s in suites)
    return f"{project}:{names} / {t['name']}"


def main(argv):
    rc = 0
    if len(argv) >= 2 and argv[0] == "--rc":
        rc = int(argv[1])
        argv = argv[2:]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2

    results, expected, status = [], [], 0
    for spec in argv:
        build, _, suite = spec.partition(":")
        log = os.path.join(build, "meson-logs", "testlog.json")
        if os.path.exists(log):
            with open(log) as f:
                results += [json.loads(line) for line in f if line.strip()]
        try:
            out = subprocess.run(["meson", "introspect", build, "--tests"],
                                 capture_output=True, text=True, check=True).stdout
            tests = json.loads(out)
        except (OSError, subprocess.CalledProcessError, ValueError):
            print(f"tests: cannot list the tests of {build}/ (not configured?)")
            tests = []
            status = 1
        wanted = set(suite.split(",")) if suite else None
        for t in tests:
            if not wanted or any(s.split(":", 1)[-1] in wanted for s in t.get("suite", [])):
                expected.append(t)

    passed, failed = 0, 0
    for r in results:
        if r.get("result") in PASSED:
            passed += 1
        else:
            failed += 1
            print(f"tests: {r.get('result')}: {r.get('name')}")

    logged = {}
    for r in results:
        logged[r.get("name")] = logged.get(r.get("name"), 0) + 1
    missing = []
    for t in expected:
        for key in (pretty(t), t["name"]):
            if logged.get(key, 0) > 0:
                logged[key] -= 1
                break
        else:
            missing.append(pretty(t))
    for name in missing[:20]:
        print(f"tests: did not run: {name}")
    if len(missing) > 20:
        print(f"tests: ... and {len(missing) - 20} more tests that did not run")
    failed += len(missing)

    if rc != 0:
        print(f"tests: the test command exited with status {rc}")
        status = 1
    if not results:
        print("tests: no test ran (no meson test log)")
        status = 1
    if failed:
        status = 1
    print(f"{passed} passed, {failed} failed")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
