#!/usr/bin/env python3
"""PyTorch CPU reference for bench/conv-layers.ts: each convolution of a preset's encoder, forward,
input gradient and filter gradient, in ms and GFLOP/s, in the same format.

Not part of the tests or CI. It needs PyTorch (on Debian: `apt-get install python3-torch`, then
run it with Debian's /usr/bin/python3). The layers, batch and statistic (the second fastest of
`repeats` calls) are those of bench/conv-layers.ts, so the two print comparable lines; shapes are
printed NHWC as there, though PyTorch runs NCHW (its fast layout on CPU). The gradients are
PyTorch's own backward kernels (aten::convolution_backward, one output at a time).

    /usr/bin/python3 bench/pytorch-layers.py --preset quick --batch 128 --threads 2 [--evict-mb 1024]

--evict-mb evicts the caches before each call as bench/conv-layers.ts does (writes to every cache
line of a buffer of that size, outside the time).
"""
import argparse
import importlib.util
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def presets():
    """The encoders of bench/pytorch-step.py (which mirrors lib/config/presets.ts)."""
    spec = importlib.util.spec_from_file_location("pytorch_step", Path(__file__).with_name("pytorch-step.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PRESETS


def resnet_layers(width, blocks, batch):
    """The distinct convolutions of the CIFAR ResNet, as resnetLayers in bench/conv-layers.ts: (x NHWC, filter [k, k, Ci, Co], stride)."""
    layers = [((batch, 32, 32, 3), (3, 3, 3, width), 1)]
    size, channels = 32, width
    for s in range(len(blocks)):
        out = width * 2 ** s
        stride = 2 if s > 0 else 1
        layers.append(((batch, size, size, channels), (3, 3, channels, out), stride))
        if stride != 1 or channels != out:
            layers.append(((batch, size, size, channels), (1, 1, channels, out), stride))
        size //= stride
        if stride != 1:
            layers.append(((batch, size, size, out), (3, 3, out, out), 1))
        channels = out
    return layers


def cache_evictor(megabytes):
    """A pass that writes to every cache line of a buffer of `megabytes` (nothing for 0)."""
    if megabytes == 0:
        return lambda: None
    buffer = torch.zeros(megabytes * 2 ** 18 // 16, 16)
    column = buffer[:, 0]
    return lambda: column.add_(1)


def second_fastest(run, repeats, evict):
    times = []
    for _ in range(repeats):
        evict()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)[min(1, len(times) - 1)] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--evict-mb", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.evict_mb < 0:
        parser.error("--evict-mb: give a whole number of megabytes, 0 for none")
    evict = cache_evictor(args.evict_mb)
    p = presets()[args.preset]
    print(f"{args.preset} encoder (width {p['width']}, blocks {'-'.join(map(str, p['blocks']))}), batch {args.batch}, PyTorch {torch.__version__}, {args.threads} threads"
          + (f", caches evicted ({args.evict_mb} MB) before each call" if args.evict_mb else ""))
    totals = {"forward": 0.0, "input grad": 0.0, "filter grad": 0.0}
    with torch.no_grad():
        for x_shape, w_shape, stride in resnet_layers(p["width"], p["blocks"], args.batch):
            n, h, w, ci = x_shape
            k, _, _, co = w_shape
            pad = (k - 1) // 2
            x = torch.randn(n, ci, h, w)
            weight = torch.randn(co, ci, k, k)
            y = F.conv2d(x, weight, stride=stride, padding=pad)
            dy = torch.randn_like(y)
            gflop = 2 * y.numel() * k * k * ci / 1e9

            def backward(mask):
                return lambda: torch.ops.aten.convolution_backward(dy, x, weight, None, [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1, mask)

            times = {
                "forward": second_fastest(lambda: F.conv2d(x, weight, stride=stride, padding=pad), args.repeats, evict),
                "input grad": second_fastest(backward([True, False, False]), args.repeats, evict),
                "filter grad": second_fastest(backward([False, True, False]), args.repeats, evict),
            }
            for kind, ms in times.items():
                totals[kind] += ms
            rate = lambda ms: f"{ms:6.1f} ms {gflop / ms * 1000:4.0f} GF/s"
            shape = "x".join(map(str, x_shape))
            print(f"x {shape:<13} w {'x'.join(map(str, w_shape)):<9} s{stride}: "
                  + " | ".join(f"{kind} {rate(ms)}" for kind, ms in times.items()))
    total = sum(totals.values())
    print(f"sum over the distinct layers: {total:.1f} ms ("
          + ", ".join(f"{kind} {ms:.1f}" for kind, ms in totals.items()) + ")")


if __name__ == "__main__":
    main()
