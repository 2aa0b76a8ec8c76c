#!/usr/bin/env python3
"""PyTorch CPU reference for `cifar-ssl bench`: the same networks and steps in PyTorch.

Not part of the tests or CI. It needs PyTorch (on Debian: `apt-get install python3-torch`, then
run it with Debian's /usr/bin/python3). It times the two steps `cifar-ssl bench` times, for the
encoder of a preset, so the two can be compared on one machine in one sitting:

- simclr: two augmented views (random crop + flip as a stand-in for the full SimCLR pipeline,
  whose cost the tfjs side measured at under 2 % of a step), encoder, projection head
  (Linear-BN-ReLU-Linear), NT-Xent, the online probe's cross-entropy on detached features, SGD
  with Nesterov momentum (weight decay on weights only, as the presets);
- supervised: padded random crop + flip, encoder, linear classifier, cross-entropy, SGD.

The encoder mirrors lib/models/resnet.ts: a 3x3 stride-1 stem conv-BN-ReLU, stages of basic
blocks (stride 2 at the first block of every stage but the first, 1x1 conv-BN projection when
the shape changes), global average pooling. PyTorch uses NCHW; that is its fast layout on CPU.

    /usr/bin/python3 bench/pytorch-step.py --preset quick --threads 2 --steps 8

bench/pytorch-step-compare.py times two versions of this script against each other, taking turns.
"""
import argparse
import ctypes
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Encoders and batch sizes of the presets (lib/config/presets.ts).
PRESETS = {
    "quick": {"width": 16, "blocks": [1, 1, 1], "head": (256, 64), "simclr_batch": 128, "supervised_batch": 128},
    "cpu": {"width": 16, "blocks": [1, 1, 1], "head": (256, 64), "simclr_batch": 128, "supervised_batch": 128},
    "paper": {"width": 64, "blocks": [2, 2, 2, 2], "head": (2048, 128), "simclr_batch": 512, "supervised_batch": 128},
}


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet(nn.Module):
    def __init__(self, width, blocks):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        layers, channels = [], width
        for s, count in enumerate(blocks):
            out = width * 2 ** s
            for b in range(count):
                layers.append(BasicBlock(channels, out, 2 if s > 0 and b == 0 else 1))
                channels = out
        self.blocks = nn.Sequential(*layers)
        self.feature_dim = channels

    def forward(self, x):
        return self.blocks(self.stem(x)).mean(dim=(2, 3))


def crop_flip(x, padding=4):
    """Random translation by up to `padding` pixels (zero padded) and horizontal flip, per image."""
    n, c, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n,))
    dx = torch.randint(0, 2 * padding + 1, (n,))
    flip = torch.rand(n) < 0.5
    # One gather for the whole batch, as the tfjs side transforms its batch in a few tensor ops: a
    # Python slice per image cost 6-15 ms for the 256 views of a SimCLR step.
    rows = dy[:, None] + torch.arange(h)
    cols = torch.where(flip[:, None], dx[:, None] + torch.arange(w - 1, -1, -1), dx[:, None] + torch.arange(w))
    index = (rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    return padded.flatten(2).gather(2, index).view(n, c, h, w)


# A fresh process's first steps fault in its heap and build oneDNN's primitives (the first step
# took 1.7-2.3 times a settled one in four quiet runs here); the tfjs side gets two untimed steps in a process that has
# already loaded the data.
WARM_UP_STEPS = 3

# glibc's mallopt parameters.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def keep_freed_memory():
    """Lets glibc keep the memory a step frees for the next step instead of returning it to the kernel.

    PyTorch's CPU allocator is glibc malloc. With glibc's own thresholds, a step at batch 256 (the
    two SimCLR views) gave back ~190 MB to the kernel and faulted it in again the next step: 45-49
    thousand minor faults and 100-120 ms of kernel time per step on top of 370-400 ms of user time
    (one thread, 2-core AMD EPYC); the supervised step at batch 128, run after it in the same
    process, faulted almost nothing. The onnx backend keeps its buffers in pools; a reference that
    refaults its heap every step times glibc's trimming, not PyTorch's kernels. `--malloc default`
    keeps glibc's thresholds, and
    `bench/pytorch-step-compare.py --threads 1 --clock cpu glibc=bench/pytorch-step.py,--malloc=default keep=bench/pytorch-step.py`
    measures the difference (SimCLR 1.20x, supervised 1.04x, medians of 6 rounds). The values are
    those of MALLOC_MMAP_THRESHOLD_=33554432 (the largest mallopt takes on 64-bit) with a large
    MALLOC_TRIM_THRESHOLD_.
    """
    libc = ctypes.CDLL("libc.so.6")
    ok = libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
    if not ok:
        raise RuntimeError("mallopt refused the thresholds")


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def sgd(modules, lr):
    """SGD as the presets configure it: Nesterov momentum 0.9, weight decay 5e-4 on the weights only
    (decayExcludesNormAndBias)."""
    params = [p for m in modules for p in m.parameters()]
    decayed = [p for p in params if p.dim() > 1]
    kept = [p for p in params if p.dim() <= 1]
    return torch.optim.SGD([{"params": decayed, "weight_decay": 5e-4}, {"params": kept, "weight_decay": 0}], lr=lr, momentum=0.9, nesterov=True)


def time_steps(step, steps, warm_up):
    for _ in range(warm_up):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warm-up", type=int, default=WARM_UP_STEPS, help=f"untimed steps before the timed ones (default {WARM_UP_STEPS})")
    parser.add_argument("--malloc", choices=["keep", "default"], default="keep", help="keep: glibc keeps freed memory for the next step (see keep_freed_memory); default: glibc's own thresholds")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    if args.malloc == "keep":
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    p = PRESETS[args.preset]
    results = []

    def record(step, batch, seconds, times):
        results.append({"preset": args.preset, "step": step, "batchSize": batch, "stepMs": 1000 * seconds, "imagesPerSecond": batch / seconds, "stepsMs": [1000 * t for t in times]})

    encoder = ResNet(p["width"], p["blocks"])
    hidden, out = p["head"]
    head = nn.Sequential(nn.Linear(encoder.feature_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))
    # The online probe of the tfjs step (PretrainConfig.onlineProbe): a linear classifier on the
    # first view's detached features, its cross-entropy added to the loss.
    probe = nn.Linear(encoder.feature_dim, 10)
    opt = sgd([encoder, head, probe], lr=0.3)
    images = torch.rand(p["simclr_batch"], 3, 32, 32)
    labels = torch.randint(0, 10, (p["simclr_batch"],))

    def simclr_step():
        opt.zero_grad(set_to_none=True)
        n = len(images)
        views = torch.cat([crop_flip(images), crop_flip(images)])
        h = encoder(views)
        z = head(h)
        loss = nt_xent(z[:n], z[n:]) + F.cross_entropy(probe(h[:n].detach()), labels)
        loss.backward()
        opt.step()

    record("simclr", p["simclr_batch"], *time_steps(simclr_step, args.steps, args.warm_up))

    classifier = nn.Linear(encoder.feature_dim, 10)
    opt = sgd([encoder, classifier], lr=0.1)
    images = torch.rand(p["supervised_batch"], 3, 32, 32)
    labels = torch.randint(0, 10, (p["supervised_batch"],))

    def supervised_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(classifier(encoder(crop_flip(images))), labels)
        loss.backward()
        opt.step()

    record("supervised", p["supervised_batch"], *time_steps(supervised_step, args.steps, args.warm_up))

    for r in results:
        print(f"pytorch {torch.__version__} {r['preset']} {r['step']} batch {r['batchSize']}: {r['imagesPerSecond']:.0f} images/s ({r['stepMs']:.0f} ms/step, {args.threads} threads)")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "cases": results}, f, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
