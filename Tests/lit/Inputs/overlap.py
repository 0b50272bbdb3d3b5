"""Reads a Chrome trace from `mlcnc run --trace` and checks that the kernel spans of two
device tracks overlap in time: the devices really ran at the same time. Prints the
overlap and exits 1 when there is none."""
import json
import sys

events = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X" and e.get("cat") == "op"]
tracks = sorted({e["tid"] for e in events})
if len(tracks) < 2:
    print(f"only {len(tracks)} device track(s)")
    sys.exit(1)
spans = {t: [(e["ts"], e["ts"] + e["dur"]) for e in events if e["tid"] == t] for t in tracks}
overlap = 0.0
for a0, a1 in spans[tracks[0]]:
    for b0, b1 in spans[tracks[1]]:
        overlap += max(0.0, min(a1, b1) - max(a0, b0))
busy = min(sum(b - a for a, b in spans[t]) for t in tracks[:2])
print(f"overlap {overlap / busy:.0%} of the less busy device")
sys.exit(0 if overlap > 0.25 * busy else 1)
