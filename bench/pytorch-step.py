#!/usr/bin/env python3
"""PyTorch CPU reference for `cifar-ssl bench`: the same networks and steps in PyTorch.

Not part of the tests or CI. It needs PyTorch (on Debian: `apt-get install python3-torch`, then
run it with Debian's /usr/bin/python3). It times the two steps `cifar-ssl bench` times, for the
encoder of a preset, so the two can be compared on one machine in one sitting:

- simclr: two augmented views (random crop + flip as a stand-in for the full SimCLR pipeline,
  whose cost the tfjs side measured at under 2 % of a step), encoder, projection head
  (Linear-BN-ReLU-Linear), NT-Xent, SGD with momentum;
- supervised: padded random crop + flip, encoder, linear classifier, cross-entropy, SGD.

The encoder mirrors lib/models/resnet.ts: a 3x3 stride-1 stem conv-BN-ReLU, stages of basic
blocks (stride 2 at the first block of every stage but the first, 1x1 conv-BN projection when
the shape changes), global average pooling. PyTorch uses NCHW; that is its fast layout on CPU.

    /usr/bin/python3 bench/pytorch-step.py --preset quick --threads 2 --steps 8
"""
import argparse
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
    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n,))
    dx = torch.randint(0, 2 * padding + 1, (n,))
    # One slice per image: simple and exact; its cost is small next to the network's.
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    flip = torch.rand(n) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def time_steps(step, steps):
    step()  # the first step pays for allocation
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    p = PRESETS[args.preset]
    results = []

    encoder = ResNet(p["width"], p["blocks"])
    hidden, out = p["head"]
    head = nn.Sequential(nn.Linear(encoder.feature_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    images = torch.rand(p["simclr_batch"], 3, 32, 32)

    def simclr_step():
        opt.zero_grad(set_to_none=True)
        views = torch.cat([crop_flip(images), crop_flip(images)])
        z = head(encoder(views))
        loss = nt_xent(z[: len(images)], z[len(images):])
        loss.backward()
        opt.step()

    seconds = time_steps(simclr_step, args.steps)
    results.append({"preset": args.preset, "step": "simclr", "batchSize": p["simclr_batch"], "stepMs": 1000 * seconds, "imagesPerSecond": p["simclr_batch"] / seconds})

    classifier = nn.Linear(encoder.feature_dim, 10)
    opt = torch.optim.SGD(list(encoder.parameters()) + list(classifier.parameters()), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    images = torch.rand(p["supervised_batch"], 3, 32, 32)
    labels = torch.randint(0, 10, (p["supervised_batch"],))

    def supervised_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(classifier(encoder(crop_flip(images))), labels)
        loss.backward()
        opt.step()

    seconds = time_steps(supervised_step, args.steps)
    results.append({"preset": args.preset, "step": "supervised", "batchSize": p["supervised_batch"], "stepMs": 1000 * seconds, "imagesPerSecond": p["supervised_batch"] / seconds})

    for r in results:
        print(f"pytorch {torch.__version__} {r['preset']} {r['step']} batch {r['batchSize']}: {r['imagesPerSecond']:.0f} images/s ({r['stepMs']:.0f} ms/step, {args.threads} threads)")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "cases": results}, f, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
