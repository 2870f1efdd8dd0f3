#!/usr/bin/env python3
"""Dense numpy float32 forward pass of a random-weight GPT-2-shaped model, timed like
`loupe bench forward` (src/bench/forward.ts): same shapes, same work (token + position embedding,
per block LayerNorm, fused qkv projection, causal softmax attention over all heads, output projection,
LayerNorm, GELU (tanh) MLP, residual adds; final LayerNorm and full logits [batch, ctx, vocab] against
the tied embedding), warm-up passes, then the median of timed passes. Prints one JSON line with
tokens_per_s = batch * ctx / seconds per forward.

    python3 bench/reference/forward.py --d-model 768 --layers 12 --heads 12 --ctx 128 --batch 4 --vocab 50257
"""
import argparse
import json
import statistics
import time

import numpy as np


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdims=True)
    return xc / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.float32(np.sqrt(2.0 / np.pi)) * (x + np.float32(0.044715) * x * x * x)))


def make_model(d, layers, vocab, n_ctx, rng):
    f32 = np.float32
    std = f32(0.02)
    out_std = f32(0.02 / np.sqrt(2 * layers))
    model = {
        "wte": (rng.standard_normal((vocab, d), dtype=f32) * std),
        "wpe": (rng.standard_normal((n_ctx, d), dtype=f32) * std),
        "ln_f": (np.ones(d, f32), np.zeros(d, f32)),
        "blocks": [],
    }
    for _ in range(layers):
        model["blocks"].append(
            {
                "ln1": (np.ones(d, f32), np.zeros(d, f32)),
                "w_qkv": rng.standard_normal((d, 3 * d), dtype=f32) * std,
                "b_qkv": np.zeros(3 * d, f32),
                "w_o": rng.standard_normal((d, d), dtype=f32) * out_std,
                "b_o": np.zeros(d, f32),
                "ln2": (np.ones(d, f32), np.zeros(d, f32)),
                "w_fc": rng.standard_normal((d, 4 * d), dtype=f32) * std,
                "b_fc": np.zeros(4 * d, f32),
                "w_proj": rng.standard_normal((4 * d, d), dtype=f32) * out_std,
                "b_proj": np.zeros(d, f32),
            }
        )
    return model


def forward(model, ids, heads):
    B, T = ids.shape
    d = model["wte"].shape[1]
    dh = d // heads
    x = model["wte"][ids] + model["wpe"][:T]
    mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
    scale = np.float32(1.0 / np.sqrt(dh))
    for blk in model["blocks"]:
        h = layer_norm(x, *blk["ln1"])
        qkv = h @ blk["w_qkv"] + blk["b_qkv"]
        q, k, v = np.split(qkv, 3, axis=-1)
        q = q.reshape(B, T, heads, dh).transpose(0, 2, 1, 3)
        k = k.reshape(B, T, heads, dh).transpose(0, 2, 1, 3)
        v = v.reshape(B, T, heads, dh).transpose(0, 2, 1, 3)
        s = (q @ k.transpose(0, 1, 3, 2)) * scale + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        p = s / s.sum(-1, keepdims=True)
        z = (p @ v).transpose(0, 2, 1, 3).reshape(B, T, d)
        x = x + z @ blk["w_o"] + blk["b_o"]
        h = layer_norm(x, *blk["ln2"])
        x = x + gelu_tanh(h @ blk["w_fc"] + blk["b_fc"]) @ blk["w_proj"] + blk["b_proj"]
    x = layer_norm(x, *model["ln_f"])
    return x @ model["wte"].T


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--d-model", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--ctx", type=int, default=128)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    model = make_model(a.d_model, a.layers, a.vocab, max(a.ctx, 1024), rng)
    ids = rng.integers(0, a.vocab, size=(a.batch, a.ctx))
    times = []
    for i in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        logits = forward(model, ids, a.heads)
        dt = time.perf_counter() - t0
        assert logits.shape == (a.batch, a.ctx, a.vocab) and logits.dtype == np.float32
        if i >= a.warmup:
            times.append(dt)
    s = statistics.median(times)
    print(
        json.dumps(
            {
                "tokens_per_s": a.batch * a.ctx / s,
                "ms_per_forward_median": s * 1000,
                "d_model": a.d_model,
                "layers": a.layers,
                "heads": a.heads,
                "ctx": a.ctx,
                "batch": a.batch,
                "vocab": a.vocab,
                "iters": a.iters,
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
