#!/usr/bin/env bash
# Runs the end-to-end tests with the contract checker's record on and sums it up: how many
# exchanges were checked against /openapi.json, and which documented operations, statuses
# and error codes the run reached (docs/RELIABILITY.md, "Contract").
#   scripts/contract-report.sh            # the whole e2e binary
#   scripts/contract-report.sh contract   # a test name filter
set -euo pipefail
cd "$(dirname "$0")/.."
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
TWOSTEP_CONTRACT_REPORT="$report" cargo test -p twostep-e2e --test e2e -- "$@"
python3 - "$report" <<'PY'
import json, sys
totals, seen, harnesses = {}, set(), 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    harnesses += 1
    for k, v in d.items():
        if k == "seen":
            seen |= {tuple(x) for x in v}
        else:
            totals[k] = totals.get(k, 0) + v
print(f"harnesses: {harnesses}")
for k in ["exchanges", "proxied", "requests", "request_bodies", "rejected", "responses", "unrouted"]:
    print(f"{k}: {totals.get(k, 0)}")
ops = {}
for op, status, code in seen:
    ops.setdefault(op, set()).add((status, code))
errors = {(op, code) for op, status, code in seen if code}
print(f"operations reached: {len(ops)}; with a success: "
      f"{sum(1 for s in ops.values() if any(st < 400 for st, _ in s))}")
print(f"distinct (operation, error code) answers seen: {len(errors)}")
for op in sorted(ops):
    codes = sorted({c for _, c in ops[op] if c})
    ok = sorted({st for st, c in ops[op] if st < 400})
    print(f"  {op}: success {ok or '-'}; errors {', '.join(codes) or '-'}")
PY
