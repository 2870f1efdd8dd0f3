"""numpy float32 reference for src/bench/elementwise.ts: the same ops, shapes and forward+backward.

Run: python3 bench/reference/elementwise.py [--json]
The backward passes are written by hand in numpy (numpy has no autodiff), with the same formulas the
TypeScript ops use. gelu (erf) needs scipy.special.erf; without scipy that row is skipped.
"""
import json
import sys
import time

import numpy as np

try:
    from scipy.special import erf as _erf
except ImportError:  # scipy is optional
    _erf = None

F = np.float32
C = F(np.sqrt(2 / np.pi))
EPS = F(1e-5)


def gelu_tanh(x, g=None):
    u = C * (x + F(0.044715) * x * x * x)
    t = np.tanh(u)
    y = F(0.5) * x * (F(1) + t)
    if g is None:
        return y
    du = C * (F(1) + F(3 * 0.044715) * x * x)
    return g * (F(0.5) * (F(1) + t) + F(0.5) * x * (F(1) - t * t) * du)


def gelu_erf(x, g=None):
    cdf = F(0.5) * (F(1) + _erf(x * F(np.sqrt(0.5))))
    y = x * cdf
    if g is None:
        return y
    return g * (cdf + x * F(1 / np.sqrt(2 * np.pi)) * np.exp(F(-0.5) * x * x))


def silu(x, g=None):
    s = F(1) / (F(1) + np.exp(-x))
    y = x * s
    if g is None:
        return y
    return g * (s + x * s * (F(1) - s))


def add_bias(x, b, g=None):
    y = x + b
    if g is None:
        return y
    return g, g.sum(axis=0)


def softmax(x, g=None):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    if g is None:
        return y
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


def layer_norm(x, w, b, g=None):
    xc = x - x.mean(axis=-1, keepdims=True)
    rs = F(1) / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + EPS)
    xh = xc * rs
    y = xh * w + b
    if g is None:
        return y
    gh = g * w
    gx = rs * (gh - gh.mean(axis=-1, keepdims=True) - xh * (gh * xh).mean(axis=-1, keepdims=True))
    return gx, (g * xh).sum(axis=0), g.sum(axis=0)


def rms_norm(x, w, g=None):
    rs = F(1) / np.sqrt((x * x).mean(axis=-1, keepdims=True) + EPS)
    y = x * rs * w
    if g is None:
        return y
    gh = g * w
    gx = gh * rs - x * (rs**3) * (gh * x).mean(axis=-1, keepdims=True)
    return gx, (g * x * rs).sum(axis=0)


def timed(fn, repeats=15, warmup=5):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def main():
    rng = np.random.default_rng(1234)
    D = 768
    cases = [
        ("gelu (tanh)", (512, 3072), lambda x, p, g=None: gelu_tanh(x, g), []),
        ("gelu (erf)", (512, 3072), lambda x, p, g=None: gelu_erf(x, g), []),
        ("silu", (512, 3072), lambda x, p, g=None: silu(x, g), []),
        ("add (bias [3072])", (512, 3072), lambda x, p, g=None: add_bias(x, p[0], g), [(3072,)]),
        ("softmax (last dim)", (48 * 128, 128), lambda x, p, g=None: softmax(x, g), []),
        ("layerNorm (w, b)", (512, D), lambda x, p, g=None: layer_norm(x, p[0], p[1], g), [(D,), (D,)]),
        ("rmsNorm (w)", (512, D), lambda x, p, g=None: rms_norm(x, p[0], g), [(D,)]),
    ]
    results = []
    for name, shape, fn, pshapes in cases:
        if name == "gelu (erf)" and _erf is None:
            print(f"skipping {name}: scipy is not installed", file=sys.stderr)
            continue
        x = rng.standard_normal(shape, dtype=np.float32)
        params = [rng.standard_normal(s, dtype=np.float32) * F(0.5) for s in pshapes]
        seed = rng.standard_normal(shape, dtype=np.float32)
        assert fn(x, params).dtype == np.float32
        fwd, fwd_min = timed(lambda: fn(x, params))
        fb, fb_min = timed(lambda: (fn(x, params), fn(x, params, seed)))
        n = x.size
        results.append(
            dict(name=name, shape=list(shape), elements=n, forwardMs=fwd, forwardMinMs=fwd_min, forwardBackwardMs=fb,
                 forwardBackwardMinMs=fb_min, forwardGelemPerS=n / fwd / 1e6, forwardGBPerS=8 * n / fwd / 1e6,
                 forwardBackwardGelemPerS=n / fb / 1e6)
        )
    if "--json" in sys.argv:
        print(json.dumps(dict(numpy=np.__version__, results=results)))
        return
    print(f"numpy {np.__version__} float32")
    print("| op | shape | forward ms (min) | forward Gelem/s | forward GB/s | fwd+bwd ms (min) | fwd+bwd Gelem/s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | [{', '.join(map(str, r['shape']))}] | {r['forwardMs']:.2f} ({r['forwardMinMs']:.2f}) | "
              f"{r['forwardGelemPerS']:.3f} | {r['forwardGBPerS']:.2f} | {r['forwardBackwardMs']:.2f} ({r['forwardBackwardMinMs']:.2f}) | "
              f"{r['forwardBackwardGelemPerS']:.3f} |")


if __name__ == "__main__":
    main()
