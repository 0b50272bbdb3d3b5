"""Reads a Chrome trace of a streamed `mlcnc run --trace` and checks that each batch's
input upload started before the previous batch's last kernel ended: the next batch was
uploaded while the current one computed. Exits 1 naming the first batch that was not."""
import json
import sys

events = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X"]
last_op_end, uploads = {}, {}
for e in events:
    batch = e.get("args", {}).get("batch", 0)
    if e["cat"] == "op":
        last_op_end[batch] = max(last_op_end.get(batch, 0.0), e["ts"] + e["dur"])
    elif e["name"].startswith("upload "):
        uploads.setdefault(batch, []).append(e["ts"])
batches = sorted(last_op_end)
if len(batches) < 2:
    print(f"only {len(batches)} batch(es) in the trace")
    sys.exit(1)
for k in batches[1:]:
    if not uploads.get(k) or max(uploads[k]) >= last_op_end[k - 1]:
        print(f"batch {k} was uploaded after batch {k - 1} finished")
        sys.exit(1)
print(f"{len(batches) - 1} uploads overlapped the previous batch")
