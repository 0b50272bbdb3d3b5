"""Checks a `mlcnc search` output folder: pareto.json lists networks that exist and that no
other front member dominates (all objectives minimised but accuracy), with the keys of
DESIGN.md section 8; with an mlcnc binary as second argument, each network must pass
`mlcnc check`. Prints the number of networks."""
import json
import os
import subprocess
import sys

out = sys.argv[1]
front = json.load(open(os.path.join(out, "pareto.json")))
keys = {"network", "weights", "accuracy", "latency_seconds", "memory_bytes", "balance"}
for e in front:
    assert set(e) == keys, e.keys()
    assert os.path.exists(os.path.join(out, e["network"])), e["network"]
    if len(sys.argv) > 2:
        subprocess.run([sys.argv[2], "check", os.path.join(out, e["network"])], check=True, stdout=subprocess.DEVNULL)


def objectives(e):
    return [e["latency_seconds"], e["memory_bytes"], e["balance"]] + ([-e["accuracy"]] if e["accuracy"] is not None else [])


for a in front:
    for b in front:
        oa, ob = objectives(a), objectives(b)
        assert not (all(x <= y for x, y in zip(ob, oa)) and any(x < y for x, y in zip(ob, oa))), f"{b['network']} dominates {a['network']}"
assert os.path.getsize(os.path.join(out, "front.svg")) > 0
print(f"{len(front)} networks on the front")
