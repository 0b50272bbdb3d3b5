#!/usr/bin/env python3
"""Kernel benchmark: mlcnc's CPU kernels beside OpenBLAS (NumPy), PyTorch and ONNX Runtime,
measured in one run, as same-run ratios (docs/PERFORMANCE.md).

    swift build -c release && tools/bench_kernels.py [--repeat 10] [--quick]

1. SGEMM C = A B^T at 256..2048 and at the capsule shapes against NumPy's OpenBLAS
   (mlcnc: a dense layer without bias; its kernel time).
2. Each conv layer of capsnet and cifar_conv at batch 32 against the same op in PyTorch
   (conv + activation; primary caps with the regrouping and squash), each as a network of
   that one op.
3. Whole networks at batch 1 and 32 against PyTorch (eager, no_grad) with the same
   weights, and ONNX Runtime on the network exported from PyTorch. mlcnc's time is one
   executor run (input upload, kernels, output download); the outputs are compared.

Ratios are peer time / mlcnc time: above 1 means mlcnc is faster. Each is given in wall
time and in process CPU time (all threads): on a shared host the wall time also counts
waiting for a core, the CPU time only the work. GFLOP/s (wall) are also given as a fraction
of this CPU's FMA peak (cores x 2 FMA units x vector lanes x 2 x clock), and the GFLOP per
CPU-second as a fraction of one core's peak.
Times are medians of --repeat runs; mlcnc uses the tiles of `mlcnc tune` when tuned.
--threads 1 runs every framework on one thread (PoCL, OpenBLAS, PyTorch, ONNX Runtime):
on a shared, loaded host that comparison suffers less from threads waiting on each other.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10, help="timed runs per measurement (median)")
    ap.add_argument("--quick", action="store_true", help="fewer sizes and only batch 1 and 4 (a smoke run)")
    ap.add_argument("--only", choices=["gemm", "conv", "nets"], action="append", help="run only these parts")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of every framework (default: all cores)")
    return ap.parse_args()


ARGS = parse_args()
# Thread counts before NumPy (OpenBLAS), PyTorch and PoCL start their pools.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "POCL_MAX_PTHREAD_COUNT"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mlcn_ref  # noqa: E402  (weight names, shapes and safetensors I/O)

BENCH = os.path.join(ROOT, ".build", "release", "mlcnc-bench")
MLCNC = os.path.join(ROOT, ".build", "release", "mlcnc")


def cpu_peak():
    """(GFLOP/s, description) of FMA peak from lscpu: cores x 2 FMA units x lanes x 2 x GHz."""
    info = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    flags = re.search(r"Flags:\s*(.*)", info).group(1).split()
    lanes = 16 if "avx512f" in flags else (8 if "fma" in flags and "avx2" in flags else 4)
    ghz = None
    m = re.search(r"CPU max MHz:\s*([\d.]+)", info)
    if m:
        ghz = float(m.group(1)) / 1000
    else:
        m = re.search(r"BogoMIPS:\s*([\d.]+)", info)  # twice the clock on x86
        ghz = float(m.group(1)) / 2000 if m else 2.5
    cores = min(os.cpu_count(), ARGS.threads)
    peak = cores * 2 * lanes * 2 * ghz
    return peak, f"{cores} cores x 2 FMA units x {lanes} lanes x 2 flops x {ghz:.2f} GHz = {peak:.0f} GFLOP/s"


def median_time(fn, repeat, warm=2):
    """Median (wall seconds, process CPU seconds) of `repeat` calls after `warm` calls."""
    for _ in range(warm):
        fn()
    ts, cs = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    return float(np.median(ts)), float(np.median(cs))


def mlcnc_ops(net, batch, repeat, weights=None, x=None, out=None):
    cmd = [BENCH, "ops", net, "--batch", str(batch), "--repeat", str(repeat)]
    if weights:
        cmd += ["--weights", weights]
    if x:
        cmd += ["--input", x]
    if out:
        cmd += ["--output", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench_kernels: {' '.join(cmd)} failed:\n{r.stderr}")
    return json.loads(r.stdout)


def make_weights(net, batch, seed, tmp):
    """Weights with the contract's names (Glorot ranges of mlcn_ref), written as safetensors."""
    g = mlcn_ref.Graph(net, batch)
    rng = np.random.default_rng(seed)
    w = {n: rng.uniform(lo, hi, shape).astype(np.float32) for n, (shape, lo, hi) in g.weights.items()}
    path = os.path.join(tmp, f"{os.path.basename(net)}.{batch}.safetensors")
    mlcn_ref.write_safetensors(path, w, {"generator": "bench_kernels.py"})
    return w, path


# ---- the networks in PyTorch, from graphs/*.mlcn (same weight names) ----

def torch_nets():
    import torch
    import torch.nn.functional as F
    from torch_ref import route, squash

    def primary_caps(x, w, b, caps, dim, stride):
        y = F.conv2d(x, w, b, stride=stride)
        n, _, h, wd = y.shape
        return squash(y.view(n, caps, dim, h * wd).permute(0, 1, 3, 2).reshape(n, caps * h * wd, dim))

    def capsule(x, w, routing):
        # u[n,i,j,:] = W[i,j] x[n,i]: one batched matmul over input capsules i
        n, i, din = x.shape
        _, j, d, _ = w.shape
        u = torch.bmm(x.transpose(0, 1), w.reshape(i, j * d, din).transpose(1, 2)).view(i, n, j, d).transpose(0, 1)
        return route(u, routing)

    class Net(torch.nn.Module):
        def __init__(self, weights, body):
            super().__init__()
            self.w = {k: torch.from_numpy(v) for k, v in weights.items()}
            self.body = body

        def forward(self, x):
            return self.body(self.w, x)

    def capsnet(w, x):
        h = F.relu(F.conv2d(x, w["h.weight"], w["h.bias"]))
        p = primary_caps(h, w["p.weight"], w["p.bias"], 32, 8, 2)
        return capsule(p, w["v.weight"], 3).norm(dim=-1)

    def mlcn4(w, x):
        lanes = []
        for k in range(4):
            h = F.relu(F.conv2d(x, w[f"L.{k}.h.weight"], w[f"L.{k}.h.bias"]))
            p = primary_caps(h, w[f"L.{k}.p.weight"], w[f"L.{k}.p.bias"], 32, 8, 2)
            lanes.append(capsule(p, w[f"L.{k}.c.weight"], 3))
        return torch.cat(lanes, dim=-1).norm(dim=-1)

    def lenet(w, x):
        c1 = F.max_pool2d(F.relu(F.conv2d(x, w["c1.weight"], w["c1.bias"], padding=2)), 2)
        c3 = F.max_pool2d(F.relu(F.conv2d(c1, w["c3.weight"], w["c3.bias"])), 2)
        f = c3.flatten(1)
        f5 = F.relu(F.linear(f, w["f5.weight"], w["f5.bias"]))
        f6 = F.relu(F.linear(f5, w["f6.weight"], w["f6.bias"]))
        return torch.softmax(F.linear(f6, w["f7.weight"], w["f7.bias"]), dim=-1)

    def cifar_conv(w, x):
        c1 = F.max_pool2d(F.relu(F.conv2d(x, w["c1.weight"], w["c1.bias"])), 2)
        c2 = F.max_pool2d(F.relu(F.conv2d(c1, w["c2.weight"], w["c2.bias"])), 2)
        return torch.softmax(F.linear(c2.flatten(1), w["z.weight"], w["z.bias"]), dim=-1)

    return {"capsnet": (capsnet, [1, 28, 28]), "mlcn4": (mlcn4, [1, 28, 28]),
            "lenet": (lenet, [1, 28, 28]), "cifar_conv": (cifar_conv, [3, 32, 32])}, Net, primary_caps


def row(cells):
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def one_op_net(tmp, name, input_shape, body):
    path = os.path.join(tmp, f"{name}.mlcn")
    with open(path, "w") as f:
        f.write(f"network {name}\ninput x: [N, {', '.join(map(str, input_shape))}]\n{body}\noutput y\n")
    return path


HEADER = ["mlcnc ms", "mlcnc GFLOP/s", "of peak", "{p} ms", "{p} GFLOP/s", "mlcnc vs {p} (wall)",
          "mlcnc CPU-s", "{p} CPU-s", "mlcnc vs {p} (CPU time)", "mlcnc / {p} GFLOP per CPU-s (of core peak)"]


def cells(flops, mine, peer, peak, core_peak):
    """Table cells for mlcnc's (wall, cpu) and a peer's (wall, cpu) times of `flops` GFLOP."""
    (t, c), (pt, pc) = mine, peer
    return [f"{t*1e3:.2f}", f"{flops/t:.1f}", f"{flops/t/peak:.0%}", f"{pt*1e3:.2f}", f"{flops/pt:.1f}", f"{pt/t:.2f}x",
            f"{c*1e3:.1f} ms", f"{pc*1e3:.1f} ms", f"{pc/c:.2f}x",
            f"{flops/c:.0f} ({flops/c/core_peak:.0%}) / {flops/pc:.0f} ({flops/pc/core_peak:.0%})"]


def main():
    a = ARGS
    for exe in (BENCH, MLCNC):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench_kernels: {exe} is missing: run `swift build -c release` first")
    import torch
    import onnxruntime as ort
    import torch.nn.functional as F
    threads = a.threads
    torch.set_num_threads(threads)
    peak, peak_text = cpu_peak()
    core_peak = peak / min(os.cpu_count(), threads)
    parts = a.only or ["gemm", "conv", "nets"]
    big = 4 if a.quick else 32
    print(f"# bench_kernels: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime {ort.__version__}, "
          f"numpy {np.__version__}, {threads} thread(s) each")
    print(f"# FMA peak: {peak_text}\n")
    tmp = tempfile.mkdtemp(prefix="bench-kernels-")
    nets, Net, primary_caps = torch_nets()

    if "gemm" in parts:
        print("## SGEMM C[M,N] = A[M,K] B[N,K]^T vs OpenBLAS (NumPy)\n")
        row(["M x N x K"] + [h.format(p="OpenBLAS") for h in HEADER])
        row(["---"] * (len(HEADER) + 1))
        shapes = [(s, s, s) for s in ([256, 512] if a.quick else [256, 512, 1024, 2048])]
        shapes += [(big, 10, 37500)]  # cifar_conv's classifier
        for m, n, k in shapes:
            net = one_op_net(tmp, f"gemm{m}x{n}x{k}", [k], f"y = dense(x, units={n}, bias=false)")
            r = mlcnc_ops(net, m, a.repeat)
            A = np.random.rand(m, k).astype(np.float32)
            B = np.random.rand(n, k).astype(np.float32)
            peer = median_time(lambda: A @ B.T, a.repeat)
            row([f"{m} x {n} x {k}"] + cells(2 * m * n * k / 1e9, (r["ops"]["y"], r["run_cpu_seconds"]), peer, peak, core_peak))
        # The capsule predictions u = W x: 1152 GEMMs [N, 8] x [8, 160], one per input capsule.
        for batch in [1, big]:
            net = one_op_net(tmp, "capspredict", [1152, 8], "y = capsule(x, caps=10, dim=16, routing=1)")
            r = mlcnc_ops(net, batch, a.repeat)
            X = np.random.rand(1152, batch, 8).astype(np.float32)
            W = np.random.rand(1152, 8, 160).astype(np.float32)
            peer = median_time(lambda: np.matmul(X, W), a.repeat)
            # The CPU time of the whole run includes the routing kernel: the ratio is a lower bound.
            mine = (r["kernels"]["y caps_predict_cpu"], r["run_cpu_seconds"])
            row([f"1152 x ({batch} x 160 x 8)"] + cells(2 * batch * 1152 * 160 * 8 / 1e9, mine, peer, peak, core_peak))
        print()

    if "conv" in parts:
        print(f"## Conv layers at batch {big} vs PyTorch (conv + activation; primary caps with regrouping + squash)\n")
        row(["layer", "shape"] + [h.format(p="PyTorch") for h in HEADER])
        row(["---"] * (len(HEADER) + 2))
        layers = [("capsnet h", [1, 28, 28], 256, 9, 1, "y = conv2d(x, filters=256, kernel=9, act=relu)",
                   lambda w, x: F.relu(F.conv2d(x, w["y.weight"], w["y.bias"]))),
                  ("capsnet p", [256, 20, 20], 256, 9, 2, "y = primary_caps(x, caps=32, dim=8, kernel=9, stride=2)",
                   lambda w, x: primary_caps(x, w["y.weight"], w["y.bias"], 32, 8, 2)),
                  ("cifar_conv c1", [3, 32, 32], 500, 5, 1, "y = conv2d(x, filters=500, kernel=5, act=relu)",
                   lambda w, x: F.relu(F.conv2d(x, w["y.weight"], w["y.bias"]))),
                  ("cifar_conv c2", [500, 14, 14], 1500, 5, 1, "y = conv2d(x, filters=1500, kernel=5, act=relu)",
                   lambda w, x: F.relu(F.conv2d(x, w["y.weight"], w["y.bias"])))]
        for name, xshape, f_, k_, s_, body, fn in layers:
            net = one_op_net(tmp, name.replace(" ", "_"), xshape, body)
            w, wpath = make_weights(net, big, 1, tmp)
            r = mlcnc_ops(net, big, a.repeat, weights=wpath)
            tw = {k: torch.from_numpy(v) for k, v in w.items()}
            x = torch.rand(big, *xshape)
            with torch.no_grad():
                peer = median_time(lambda: fn(tw, x), a.repeat)
            o = (xshape[1] - k_) // s_ + 1
            flops = 2 * big * f_ * o * o * xshape[0] * k_ * k_ / 1e9
            row([name, f"{xshape[0]}->{f_} {k_}x{k_}/{s_} on {xshape[1]}x{xshape[2]}"]
                + cells(flops, (r["ops"]["y"], r["run_cpu_seconds"]), peer, peak, core_peak))
        print()

    if "nets" in parts:
        print("## Whole networks vs PyTorch (eager) and ONNX Runtime (exported from PyTorch), same weights\n")
        row(["network", "batch", "mlcnc ms", "PyTorch ms", "ONNX Runtime ms", "vs PyTorch (wall)", "vs ONNX Runtime (wall)",
             "mlcnc CPU-s", "PyTorch CPU-s", "ONNX Runtime CPU-s", "vs PyTorch (CPU time)", "vs ONNX Runtime (CPU time)",
             "max |diff|"])
        row(["---"] * 13)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        for name in ["capsnet", "mlcn4", "lenet", "cifar_conv"]:
            body, xshape = nets[name]
            path = os.path.join(ROOT, "graphs", f"{name}.mlcn")
            for batch in [1, big]:
                w, wpath = make_weights(path, batch, 2, tmp)
                x = np.random.default_rng(3).random([batch] + xshape).astype(np.float32)
                xpath, ypath = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
                np.save(xpath, x)
                r = mlcnc_ops(path, batch, a.repeat, weights=wpath, x=xpath, out=ypath)
                model = Net(w, body).eval()
                xt = torch.from_numpy(x)
                with torch.no_grad():
                    tt = median_time(lambda: model(xt), a.repeat)
                    yt = model(xt).numpy()
                onnx_path = os.path.join(tmp, f"{name}.{batch}.onnx")
                # The TorchScript exporter: it unrolls the routing loop and needs no onnxscript.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    torch.onnx.export(model, (xt,), onnx_path, input_names=["x"], output_names=["y"], dynamo=False)
                sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
                to = median_time(lambda: sess.run(None, {"x": x}), a.repeat)
                diff = float(np.abs(np.load(ypath) - yt).max())
                t, c = r["run_seconds"], r["run_cpu_seconds"]
                row([name, batch, f"{t*1e3:.2f}", f"{tt[0]*1e3:.2f}", f"{to[0]*1e3:.2f}", f"{tt[0]/t:.2f}x", f"{to[0]/t:.2f}x",
                     f"{c*1e3:.2f} ms", f"{tt[1]*1e3:.2f} ms", f"{to[1]*1e3:.2f} ms", f"{tt[1]/c:.2f}x", f"{to[1]/c:.2f}x",
                     f"{diff:.1e}"])
        print()


if __name__ == "__main__":
    main()
