#!/usr/bin/env python3
"""Dense numpy TopK SAE reference, beside `loupe bench sae` (src/bench/sae.ts) and `loupe sae train`.

bench: training steps on random data, timed like the TypeScript bench (one warm-up step, then the mean of
`--steps` steps). A step is what a straightforward implementation does: encode GEMM, top-k (argpartition),
*dense* decode (latents [B, F] @ W_dec), dense backward (three more GEMMs of the same size), Adam, unit-norm
decoder rows. Prints {"tokens_per_s": ...}.

    python3 bench/reference/sae.py bench --d-in 768 --latents 24576 --k 32 --batch 4096 --steps 5

train: an independent reference trainer on activations cached by `loupe sae cache` (safetensors shards):
TopK + AuxK, W_enc = W_dec^T init, b_dec at the geometric median, activations scaled to E||x|| = sqrt(d_in),
Adam with warmup and a final linear decay, dead latents tracked over a token window. Reports the FVU on a
held-out cache. Used to check that `loupe sae train` reaches a comparable FVU with the same settings.

    python3 bench/reference/sae.py train --train DIR --eval DIR --latents 1024 --k 16 --tokens 1000000
"""
import argparse
import glob
import json
import math
import os
import struct
import time

import numpy as np


# ------------------------------------------------------------------------------------------------ model


class TopKSAE:
    def __init__(self, d_in, d_sae, k, rng):
        w = rng.standard_normal((d_sae, d_in)).astype(np.float32)
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        self.W_dec = w  # [F, D], unit rows
        self.W_enc = w.T.copy()  # [D, F]
        self.b_enc = np.zeros(d_sae, np.float32)
        self.b_dec = np.zeros(d_in, np.float32)
        self.k = k
        self.params = ["W_enc", "b_enc", "W_dec", "b_dec"]
        self.m = {p: np.zeros_like(getattr(self, p)) for p in self.params}
        self.v = {p: np.zeros_like(getattr(self, p)) for p in self.params}
        self.t = 0

    def topk_acts(self, pre, k, out=None):
        idx = np.argpartition(-pre, k - 1, axis=1)[:, :k]
        vals = np.maximum(np.take_along_axis(pre, idx, axis=1), 0)
        acts = np.zeros_like(pre) if out is None else out
        if out is not None:
            acts.fill(0)
        np.put_along_axis(acts, idx, vals, axis=1)
        return acts

    def encode(self, x):
        pre = (x - self.b_dec) @ self.W_enc + self.b_enc
        return self.topk_acts(pre, self.k)

    def buffers(self, B):
        """[B, d_sae] work arrays, allocated once per batch size (a fresh 400 MB array per product
        would time the allocator as much as the arithmetic)."""
        if getattr(self, "_B", None) != B:
            F = self.W_enc.shape[1]
            self._B = B
            self._pre = np.empty((B, F), np.float32)
            self._acts = np.empty((B, F), np.float32)
            self._d_acts = np.empty((B, F), np.float32)
        return self._pre, self._acts, self._d_acts

    def step(self, x, lr, dead=None, k_aux=None, aux_coef=1 / 32):
        B = x.shape[0]
        pre, acts_buf, d_acts = self.buffers(B)
        xin = x - self.b_dec
        np.matmul(xin, self.W_enc, out=pre)  # [B, F]
        pre += self.b_enc
        acts = self.topk_acts(pre, self.k, out=acts_buf)
        recon = acts @ self.W_dec + self.b_dec  # dense decode
        err = recon - x
        loss = float((err.astype(np.float64) ** 2).sum() / B)
        d_recon = (2.0 / B) * err
        np.matmul(d_recon, self.W_dec.T, out=d_acts)
        g_W_dec = acts.T @ d_recon
        g_b_dec = d_recon.sum(0)
        d_pre = d_acts
        d_pre *= acts > 0
        if dead is not None and dead.any() and k_aux:
            n_dead = int(dead.sum())
            ka = min(k_aux, n_dead)
            scale = aux_coef * min(n_dead / k_aux, 1.0)
            masked = np.where(dead[None, :], pre, -np.inf)
            aux = self.topk_acts(masked, ka)
            aux_recon = aux @ self.W_dec
            aux_err = aux_recon + err  # residual is -(err), detached
            loss += float(scale * (aux_err.astype(np.float64) ** 2).sum() / B)
            d_aux = (2.0 * scale / B) * aux_err
            g_W_dec += aux.T @ d_aux
            d_pre += (d_aux @ self.W_dec.T) * (aux > 0)
        g_W_enc = xin.T @ d_pre
        g_b_enc = d_pre.sum(0)
        g_b_dec -= g_b_enc @ self.W_enc.T
        # unit-norm decoder: drop the gradient along each row
        g_W_dec -= (g_W_dec * self.W_dec).sum(1, keepdims=True) * self.W_dec
        grads = {"W_enc": g_W_enc, "b_enc": g_b_enc, "W_dec": g_W_dec, "b_dec": g_b_dec}
        self.adam(grads, lr)
        self.W_dec /= np.linalg.norm(self.W_dec, axis=1, keepdims=True)
        return loss, acts

    def adam(self, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.t += 1
        c1 = 1 - b1 ** self.t
        c2 = 1 - b2 ** self.t
        for p in self.params:
            g = grads[p]
            m, v = self.m[p], self.v[p]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w = getattr(self, p)
            w -= (lr / c1) * m / (np.sqrt(v) / math.sqrt(c2) + eps)


# ------------------------------------------------------------------------------------------------ bench


def bench(args):
    rng = np.random.default_rng(args.seed)
    sae = TopKSAE(args.d_in, args.latents, args.k, rng)
    data = [rng.standard_normal((args.batch, args.d_in)).astype(np.float32) for _ in range(2)]
    lr = 2e-4 / math.sqrt(args.latents / 2**14)
    for i in range(args.warmup):
        sae.step(data[i % 2], lr)
    t0 = time.perf_counter()
    for i in range(args.steps):
        sae.step(data[i % 2], lr)
    dt = (time.perf_counter() - t0) / args.steps
    print(json.dumps({"tokens_per_s": args.batch / dt, "ms_per_step": dt * 1e3, "d_in": args.d_in, "latents": args.latents,
                      "k": args.k, "batch": args.batch, "steps": args.steps, "implementation": "numpy-dense"}))


# ------------------------------------------------------------------------------------------------ train


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{path}: {name} is {info['dtype']}, expected F32"
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=np.float32).reshape(info["shape"])
    return out


def load_cache(directory, hook):
    shards = sorted(glob.glob(os.path.join(directory, "shard-*.safetensors")))
    if not shards:
        raise SystemExit(f"{directory}: no shard-*.safetensors files (write them with `loupe sae cache`)")
    return np.concatenate([read_safetensors(s)[hook] for s in shards]).astype(np.float32)


def geometric_median(x, iters=100, tol=1e-6):
    m = x.mean(0).astype(np.float64)
    for _ in range(iters):
        w = 1 / np.maximum(np.linalg.norm(x - m, axis=1), 1e-8)
        nxt = (w[:, None] * x).sum(0) / w.sum()
        if np.linalg.norm(nxt - m) <= tol * max(1.0, np.linalg.norm(nxt)):
            m = nxt
            break
        m = nxt
    return m.astype(np.float32)


def train(args):
    hook = args.hook
    x_train = load_cache(args.train, hook)
    x_eval = load_cache(args.eval, hook)
    rng = np.random.default_rng(args.seed)
    n, d = x_train.shape
    sample = x_train[rng.permutation(n)[:8192]]
    scale = math.sqrt(d) / np.linalg.norm(sample, axis=1).mean()
    sae = TopKSAE(d, args.latents, args.k, rng)
    sae.b_dec = geometric_median(sample * scale)
    B = args.batch
    steps = max(1, math.ceil(args.tokens / B))
    lr0 = args.lr or 2e-4 / math.sqrt(args.latents / 2**14)
    warm, decay = int(steps * 0.05), int(steps * 0.2)
    dead_tokens = args.dead_tokens or max(B, min(10_000_000, args.tokens // 10))
    since = np.zeros(args.latents, np.int64)
    k_aux = d // 2
    perm, at = rng.permutation(n), 0
    t0 = time.perf_counter()
    for s in range(steps):
        if s < warm:
            lr = lr0 * (s + 1) / warm
        elif decay and s >= steps - decay:
            lr = lr0 * (steps - s) / decay
        else:
            lr = lr0
        if at + B > n:
            perm, at = rng.permutation(n), 0
        x = x_train[perm[at:at + B]] * scale
        at += B
        loss, acts = sae.step(x, lr, dead=since >= dead_tokens, k_aux=k_aux)
        fired = (acts > 0).any(0)
        since = np.where(fired, 0, since + B)
    elapsed = time.perf_counter() - t0
    # FVU on the held-out activations, in raw units (the scale cancels in the ratio).
    xe = x_eval * scale
    se, var, fired = 0.0, 0.0, np.zeros(args.latents, bool)
    mu = xe.mean(0)
    for i in range(0, len(xe), 4096):
        xb = xe[i:i + 4096]
        acts = sae.encode(xb)
        recon = acts @ sae.W_dec + sae.b_dec
        se += float(((recon - xb).astype(np.float64) ** 2).sum())
        var += float(((xb - mu).astype(np.float64) ** 2).sum())
        fired |= (acts > 0).any(0)
    print(json.dumps({"fvu": se / var, "dead_fraction": float(1 - fired.mean()), "train_tokens": steps * B,
                      "eval_tokens": int(len(xe)), "seconds": elapsed, "implementation": "numpy-dense"}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--d-in", type=int, default=768)
    b.add_argument("--latents", type=int, default=24576)
    b.add_argument("--k", type=int, default=32)
    b.add_argument("--batch", type=int, default=4096)
    b.add_argument("--steps", type=int, default=5)
    b.add_argument("--warmup", type=int, default=1)
    b.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train")
    t.add_argument("--train", required=True, help="cache directory of training activations")
    t.add_argument("--eval", required=True, help="cache directory of held-out activations")
    t.add_argument("--hook", default=None, help="hook name in the shards (default: the only one)")
    t.add_argument("--latents", type=int, default=1024)
    t.add_argument("--k", type=int, default=16)
    t.add_argument("--tokens", type=int, default=1_000_000)
    t.add_argument("--batch", type=int, default=4096)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--dead-tokens", type=int, default=None)
    t.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.cmd == "bench":
        bench(args)
    else:
        if args.hook is None:
            manifest = json.load(open(os.path.join(args.train, "manifest.json")))
            args.hook = manifest["hooks"][0]
        train(args)


if __name__ == "__main__":
    main()
