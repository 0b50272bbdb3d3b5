"""Runs `mlcnc eval` on every network of a search's Pareto front with its trained weights
and checks that the accuracy equals the one in pareto.json. Usage: eval_front.py MLCNC DIR VAL.npz"""
import json
import os
import subprocess
import sys

mlcnc, out, val = sys.argv[1:4]
for e in json.load(open(os.path.join(out, "pareto.json"))):
    r = subprocess.run([mlcnc, "eval", os.path.join(out, e["network"]), "--weights", os.path.join(out, e["weights"]),
                        "--data", val, "--json"], check=True, capture_output=True, text=True)
    acc = json.loads(r.stdout)["accuracy"]
    assert abs(acc - e["accuracy"]) < 1e-9, f"{e['network']}: eval {acc}, search {e['accuracy']}"
print("front accuracies match mlcnc eval")
