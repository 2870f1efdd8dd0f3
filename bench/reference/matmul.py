#!/usr/bin/env python3
"""numpy float32 matmul throughput, timed like `loupe bench matmul` (src/bench/matmul.ts): random
inputs in [-1, 1), warm-up calls, then the median of individually timed calls (about one second of
calls by default, at least 10, or 3 when one call takes over 100 ms). Prints one JSON line.

    python3 bench/reference/matmul.py --m 512 --k 768 --n 3072
"""
import argparse
import json
import math
import os
import statistics
import time

import numpy as np

TARGET_SECONDS = 1.0


def blas_threads():
    try:
        from threadpoolctl import threadpool_info  # optional

        return max(p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas")
    except Exception:
        return int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or os.cpu_count())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--m", type=int, default=512)
    p.add_argument("--k", type=int, default=768)
    p.add_argument("--n", type=int, default=3072)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--trans-b", action="store_true", help="B stored [n, k]; computes A @ B^T")
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--warmup", type=int, default=None)
    args = p.parse_args()

    rng = np.random.default_rng(1)
    b_shape = (args.n, args.k) if args.trans_b else (args.k, args.n)
    a = (rng.random((args.batch, args.m, args.k), dtype=np.float32) * 2 - 1)
    b = (rng.random((args.batch,) + b_shape, dtype=np.float32) * 2 - 1)
    out = np.empty((args.batch, args.m, args.n), dtype=np.float32)
    if args.batch == 1:  # plain 2D product, as a caller would write it
        a, b, out = a[0], b[0], out[0]
    bt = b.swapaxes(-1, -2) if args.trans_b else b

    def once():
        t0 = time.perf_counter()
        np.matmul(a, bt, out=out)
        return (time.perf_counter() - t0) * 1e3

    warm_ms, spent = math.inf, 0.0
    for _ in range(args.warmup if args.warmup is not None else 3):
        t = once()
        warm_ms, spent = min(warm_ms, t), spent + t
        if args.warmup is None and spent > TARGET_SECONDS * 1e3:
            break
    if warm_ms == math.inf:
        warm_ms = 1.0
    min_iters = 3 if warm_ms > 100 else 10
    iters = args.iters or min(10_000, max(min_iters, math.ceil(TARGET_SECONDS * 1e3 / max(warm_ms, 1e-3))))

    ms = statistics.median(once() for _ in range(iters))
    flops = 2 * args.batch * args.m * args.k * args.n
    print(json.dumps({
        "gflops": flops / (ms * 1e6), "ms_median": ms, "m": args.m, "k": args.k, "n": args.n,
        "batch": args.batch, "trans_b": args.trans_b, "backend": "numpy " + np.__version__,
        "threads": blas_threads(), "iters": iters,
    }))


if __name__ == "__main__":
    main()
