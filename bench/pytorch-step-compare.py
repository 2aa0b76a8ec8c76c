#!/usr/bin/env python3
"""Times two versions of bench/pytorch-step.py against each other, taking turns, on one machine.

The project's machines are shared and their load moves by several times within seconds, so one run
of each version says little. This runs the versions alternately (A B A B ...), each in a fresh
process as `cifar-ssl bench` runs it, and reports per case each round's step of each and the
ratio A / B of the two steps of a round: its median, minimum and maximum.

A version is `LABEL=SOURCE[,EXTRA ARG,...]`, SOURCE a file or `git:REV` (the script as committed at REV):

    /usr/bin/python3 bench/pytorch-step-compare.py --rounds 8 --steps 6 \\
        old=git:850acd4 new=bench/pytorch-step.py
    /usr/bin/python3 bench/pytorch-step-compare.py --threads 1 --clock cpu old=git:850acd4 new=bench/pytorch-step.py
    /usr/bin/python3 bench/pytorch-step-compare.py warm1=bench/pytorch-step.py,--warm-up=1 warm3=bench/pytorch-step.py
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def materialise(source, tmp):
    if not source.startswith("git:"):
        return source
    rev = source[4:]
    text = subprocess.run(["git", "-C", HERE, "show", f"{rev}:bench/pytorch-step.py"], check=True, capture_output=True, text=True).stdout
    path = os.path.join(tmp, f"pytorch-step-{rev}.py")
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("versions", nargs=2, help="LABEL=SOURCE[,EXTRA ARG,...], SOURCE a path or git:REV")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=6, help="timed steps per run (cifar-ssl bench passes its --steps)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: the scripts time their steps in the process's CPU time (user + kernel, all threads) "
                             "instead of wall time; with --threads 1 that barely moves with the machine's load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions = []
        for v in args.versions:
            label, _, rest = v.partition("=")
            source, _, extra = rest.partition(",")
            versions.append((label, materialise(source, tmp), extra.split(",") if extra else []))
        steps = {}  # (label, case) -> [ms per round]
        for r in range(args.rounds):
            for label, script, extra in versions:
                out = os.path.join(tmp, "result.json")
                # The scripts time with time.perf_counter; --clock cpu swaps in the process's CPU time.
                clock = "import time; time.perf_counter = time.process_time; " if args.clock == "cpu" else ""
                run = f"import runpy, sys; {clock}sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
                cmd = [sys.executable, "-c", run, script, "--preset", args.preset, "--threads", str(args.threads), "--steps", str(args.steps), "--json", out, *extra]
                subprocess.run(cmd, check=True, capture_output=True)
                with open(out) as f:
                    for c in json.load(f)["cases"]:
                        steps.setdefault((label, c["step"]), []).append(c["stepMs"])
            print(f"round {r + 1}: " + "; ".join(f"{label} {case} {ms[-1]:.0f} ms" for (label, case), ms in steps.items()), flush=True)
        (a, _, _), (b, _, _) = versions
        for case in ("simclr", "supervised"):
            ratios = [x / y for x, y in zip(steps[(a, case)], steps[(b, case)])]
            print(f"{case}: {a} median {statistics.median(steps[(a, case)]):.0f} ms, {b} median {statistics.median(steps[(b, case)]):.0f} ms; "
                  f"per-round {a}/{b} median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}, {len(ratios)} rounds)")


if __name__ == "__main__":
    main()
