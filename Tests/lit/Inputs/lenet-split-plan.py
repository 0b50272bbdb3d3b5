# Prints a layer-wise plan for graphs/lenet.mlcn at batch 4 on devices 0:0 and 0:1 that
# splits every kind of axis: rows with a halo (c1), channels (s2), filters with the
# devices in reverse order (c3), width (s4), samples through a view (f), units (f5),
# samples (f6, y), one op whole (f7).
import json

def parts(axis, *cuts):
    return [{"device": d, "axis": axis, "range": [lo, hi]} for d, lo, hi in cuts]

ops = [
    {"name": "c1", "parts": parts(2, ("0:0", 0, 14), ("0:1", 14, 28))},
    {"name": "s2", "parts": parts(1, ("0:0", 0, 4), ("0:1", 4, 6))},
    {"name": "c3", "parts": parts(1, ("0:1", 0, 10), ("0:0", 10, 16))},
    {"name": "s4", "parts": parts(3, ("0:0", 0, 2), ("0:1", 2, 5))},
    {"name": "f", "parts": parts(0, ("0:0", 0, 3), ("0:1", 3, 4))},
    {"name": "f5", "parts": parts(1, ("0:0", 0, 60), ("0:1", 60, 120))},
    {"name": "f6", "parts": parts(0, ("0:1", 0, 2), ("0:0", 2, 4))},
    {"name": "f7", "device": "0:0"},
    {"name": "y", "parts": parts(0, ("0:0", 0, 1), ("0:1", 1, 4))},
]
print(json.dumps({"version": 1, "strategy": "layerwise", "devices": ["0:0", "0:1"], "predicted_seconds": 0,
                  "batch": 4, "ops": ops, "lanes": []}, indent=1))
