#!/usr/bin/env python3
"""Compare two `tiersim` builds on a shared, noisy machine.

Runs both binaries at the same time, one per CPU, swapping CPUs every round, so that
whatever else the host does slows both alike; reports each round's ratio of user times
(B over A) and their median. On the 2-vCPU development host two copies of one build
differ by up to 5% in a round, with a median ratio within 0.5% of 1; one after the
other, the same two copies' ratios ranged over 0.75-1.33. Used for the comparisons in
`docs/performance.md` ("Benchmarks").

    benches/compare_builds.py ROUNDS A B [run|replay] [arguments...]

A and B are paths to `tiersim` binaries; the default is `run` of the quickstart. With
`replay` first, the rest are `tiersim replay` arguments (a trace, --format, --policy,
--size; add --jobs 1 so each build keeps to its CPU). Needs Linux
(`taskset`, GNU `time`) and two CPUs.
"""

import os
import statistics
import subprocess
import sys
import tempfile


def user_seconds(time_file):
    with open(time_file) as f:
        return float(f.read().split()[-1])


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rounds, a, b, extra = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    command = ["run"]
    if extra and extra[0] in ("run", "replay"):
        command, extra = [extra[0]], extra[1:]
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            runs = []
            for j, (binary, cpu) in enumerate([(a, r % 2), (b, 1 - r % 2)]):
                time_file = os.path.join(tmp, f"time{j}")
                out = os.path.join(tmp, f"out{j}")
                cmd = ["taskset", "-c", str(cpu), "/usr/bin/time", "-o", time_file,
                       "-f", "%U", binary, *command, "--out", out, "--quiet", *extra]
                runs.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL), time_file))
            for proc, _ in runs:
                if proc.wait() != 0:
                    sys.exit(f"{' '.join(proc.args)} failed")
            ta, tb = (user_seconds(t) for _, t in runs)
            ratios.append(tb / ta)
            print(f"round {r + 1}: A {ta:.2f} s, B {tb:.2f} s, B/A {tb / ta:.3f}", flush=True)
    faster = sum(1 for x in ratios if x < 1)
    print(f"B/A median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-"
          f"{max(ratios):.3f}; B faster in {faster} of {rounds} rounds")


if __name__ == "__main__":
    main()
