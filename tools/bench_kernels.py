#!/usr/bin/env python3
"""Kernel benchmark: mlcnc's CPU kernels beside OpenBLAS (NumPy), PyTorch and ONNX Runtime,
measured in one run, as same-run ratios (docs/PERFORMANCE.md).

    swift build -c release && tools/bench_kernels.py [--repeat 10] [--quick]

1. SGEMM C = A B^T at 256..2048 and at the capsule shapes against NumPy's OpenBLAS
   (mlcnc: a dense layer without bias; its kernel time).
2. Each conv layer of capsnet and cifar_conv at batch 32 against the same op in PyTorch
   (conv + activation; primary caps with the regrouping and squash).
3. Whole networks at batch 1 and 32 against PyTorch (eager, no_grad) with the same
   weights, and ONNX Runtime on the network exported from PyTorch. mlcnc's time is one
   executor run (input upload, kernels, output download); the outputs are compared.

Ratios are peer time / mlcnc time: above 1 means mlcnc is faster. GFLOP/s are also given
as a fraction of this CPU's FMA peak (cores x 2 FMA units x vector lanes x 2 x clock).
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
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


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

    def squash(s):
        n2 = (s * s).sum(-1, keepdim=True)
        return s * (n2 / (1 + n2)) / torch.sqrt(n2 + 1e-7)

    def primary_caps(x, w, b, caps, dim, stride):
        y = F.conv2d(x, w, b, stride=stride)
        n, _, h, wd = y.shape
        return squash(y.view(n, caps, dim, h * wd).permute(0, 1, 3, 2).reshape(n, caps * h * wd, dim))

    def capsule(x, w, routing):
        # u[n,i,j,:] = W[i,j] x[n,i]: one batched matmul over input capsules i
        n, i, din = x.shape
        _, j, d, _ = w.shape
        u = torch.bmm(x.transpose(0, 1), w.reshape(i, j * d, din).transpose(1, 2)).view(i, n, j, d).transpose(0, 1)
        b = torch.zeros(n, i, j)
        for r in range(routing):
            c = torch.softmax(b, dim=2)
            v = squash(torch.einsum("nij,nijd->njd", c, u))
            if r < routing - 1:
                b = b + torch.einsum("nijd,njd->nij", u, v)
        return v

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


def main():
    a = ARGS
    for exe in (BENCH, MLCNC):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench_kernels: {exe} is missing: run `swift build -c release` first")
    import torch
    import onnxruntime as ort
    threads = a.threads
    torch.set_num_threads(threads)
    peak, peak_text = cpu_peak()
    parts = a.only or ["gemm", "conv", "nets"]
    big = 4 if a.quick else 32
    print(f"# bench_kernels: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime {ort.__version__}, "
          f"numpy {np.__version__}, {threads} thread(s) each")
    print(f"# FMA peak: {peak_text}\n")
    tmp = tempfile.mkdtemp(prefix="bench-kernels-")
    nets, Net, primary_caps = torch_nets()
    import torch.nn.functional as F

    if "gemm" in parts:
        print("## SGEMM C[M,N] = A[M,K] B[N,K]^T vs OpenBLAS (NumPy)\n")
        row(["M x N x K", "mlcnc ms", "mlcnc GFLOP/s", "of peak", "OpenBLAS ms", "OpenBLAS GFLOP/s", "mlcnc vs OpenBLAS"])
        row(["---"] * 7)
        shapes = [(s, s, s) for s in ([256, 512] if a.quick else [256, 512, 1024, 2048])]
        shapes += [(big, 10, 37500)]  # cifar_conv's classifier
        for m, n, k in shapes:
            net = os.path.join(tmp, f"gemm{m}x{n}x{k}.mlcn")
            with open(net, "w") as f:
                f.write(f"network gemm\ninput x: [N, {k}]\ny = dense(x, units={n}, bias=false)\noutput y\n")
            t = mlcnc_ops(net, m, a.repeat)["ops"]["y"]
            A = np.random.rand(m, k).astype(np.float32)
            B = np.random.rand(n, k).astype(np.float32)
            tb = median_time(lambda: A @ B.T, a.repeat)
            fl = 2 * m * n * k / 1e9
            row([f"{m} x {n} x {k}", f"{t*1e3:.2f}", f"{fl/t:.1f}", f"{fl/t/peak:.0%}", f"{tb*1e3:.2f}", f"{fl/tb:.1f}", f"{tb/t:.2f}x"])
        # The capsule predictions u = W x: 1152 GEMMs [N, 8] x [8, 160] sharing nothing but N.
        for batch in ([1, big]):
            net = os.path.join(tmp, "capspredict.mlcn")
            with open(net, "w") as f:
                f.write("network caps\ninput x: [N, 1152, 8]\ny = capsule(x, caps=10, dim=16, routing=1)\noutput y\n")
            r = mlcnc_ops(net, batch, a.repeat)
            t = r["kernels"]["y caps_predict_cpu"]
            X = np.random.rand(1152, batch, 8).astype(np.float32)
            W = np.random.rand(1152, 8, 160).astype(np.float32)
            tb = median_time(lambda: np.matmul(X, W), a.repeat)
            fl = 2 * batch * 1152 * 160 * 8 / 1e9
            row([f"1152 x ({batch} x 160 x 8)", f"{t*1e3:.2f}", f"{fl/t:.1f}", f"{fl/t/peak:.0%}", f"{tb*1e3:.2f}", f"{fl/tb:.1f}", f"{tb/t:.2f}x"])
        print()

    if "conv" in parts:
        print(f"## Conv layers at batch {big} vs PyTorch (same op: conv + activation; primary caps with regrouping + squash)\n")
        row(["layer", "shape", "mlcnc ms", "mlcnc GFLOP/s", "of peak", "PyTorch ms", "PyTorch GFLOP/s", "mlcnc vs PyTorch"])
        row(["---"] * 8)
        layers = [("capsnet", "h", lambda w, x: F.relu(F.conv2d(x, w["h.weight"], w["h.bias"])), [1, 28, 28], (256, 9, 1)),
                  ("capsnet", "p", lambda w, x: primary_caps(x, w["p.weight"], w["p.bias"], 32, 8, 2), [256, 20, 20], (256, 9, 2)),
                  ("cifar_conv", "c1", lambda w, x: F.relu(F.conv2d(x, w["c1.weight"], w["c1.bias"])), [3, 32, 32], (500, 5, 1)),
                  ("cifar_conv", "c2", lambda w, x: F.relu(F.conv2d(x, w["c2.weight"], w["c2.bias"])), [500, 14, 14], (1500, 5, 1))]
        runs = {}
        for netname, layer, fn, xshape, (f_, k_, s_) in layers:
            path = os.path.join(ROOT, "graphs", f"{netname}.mlcn")
            if netname not in runs:
                w, wpath = make_weights(path, big, 1, tmp)
                runs[netname] = (w, mlcnc_ops(path, big, a.repeat, weights=wpath))
            w, r = runs[netname]
            t = r["ops"][layer]
            tw = {k: torch.from_numpy(v) for k, v in w.items()}
            x = torch.rand(big, *xshape)
            with torch.no_grad():
                tt = median_time(lambda: fn(tw, x), a.repeat)
            o = (xshape[1] - k_) // s_ + 1
            fl = 2 * big * f_ * o * o * xshape[0] * k_ * k_ / 1e9
            row([f"{netname} {layer}", f"{xshape[0]}->{f_} {k_}x{k_}/{s_} on {xshape[1]}x{xshape[2]}",
                 f"{t*1e3:.2f}", f"{fl/t:.1f}", f"{fl/t/peak:.0%}", f"{tt*1e3:.2f}", f"{fl/tt:.1f}", f"{tt/t:.2f}x"])
        print()

    if "nets" in parts:
        print("## Whole networks vs PyTorch (eager) and ONNX Runtime (exported from PyTorch), same weights\n")
        row(["network", "batch", "mlcnc ms", "PyTorch ms", "ONNX Runtime ms", "mlcnc vs PyTorch", "mlcnc vs ONNX Runtime", "max |diff|"])
        row(["---"] * 8)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
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
                t = r["run_seconds"]
                row([name, batch, f"{t*1e3:.2f}", f"{tt*1e3:.2f}", f"{to*1e3:.2f}", f"{tt/t:.2f}x", f"{to/t:.2f}x", f"{diff:.1e}"])
        print()


if __name__ == "__main__":
    main()
