#!/usr/bin/env python3
"""Total CPU (user + sys of every process) of a sweep run locally against the same sweep
run as N shards and merged (issue 19's budget: at most 1.05 times).

    python3 benches/cluster_cpu.py [TIERSIM] [SHARDS] [REPEATS] [REQUESTS] [REPLICATIONS]

TIERSIM defaults to target/release/tiersim, SHARDS to 12, REPEATS to 3, REQUESTS (per
job) to 1,000,000, REPLICATIONS to 2; the grid is 12 points of the app tier. Each shard runs
as its own process with --jobs 1, as a Slurm array task with one CPU does; the local
sweep runs with --jobs 1 too, so both count the same simulations. Repeats alternate the
two and the median of each is reported.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tiersim = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target/release/tiersim")
shards = int(sys.argv[2]) if len(sys.argv) > 2 else 12
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
requests = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
replications = sys.argv[5] if len(sys.argv) > 5 else "2"
sweep = [tiersim, "sweep", os.path.join(root, "scenarios/app_tier.toml"),
         "--grid", "layers.redis.ttl_s=5,30,300",
         "--grid", "layers.l1.policy=lru,fifo,lfu,s3fifo",
         "--replications", replications, "--set", f"requests={requests}",
         "--set", f"warmup_requests={requests // 10}", "--jobs", "1", "-q"]


def cpu(commands):
    """User + sys seconds of `commands`, run one after another."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for c in commands:
        subprocess.run(c, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


local, sharded = [], []
for _ in range(repeats):
    with tempfile.TemporaryDirectory() as d:
        local.append(cpu([sweep + ["--out", f"{d}/local"]]))
        dirs = [f"{d}/s{k}" for k in range(shards)]
        cmds = [sweep + ["--out", dirs[k], "--shard", f"{k}/{shards}"] for k in range(shards)]
        cmds.append([tiersim, "merge", *dirs, "--out", f"{d}/merged"])
        sharded.append(cpu(cmds))
        for f in ["sweep.csv", "sweep_summary.csv"]:
            a = open(f"{d}/local/{f}", "rb").read()
            b = open(f"{d}/merged/{f}", "rb").read()
            assert a == b, f"{f}: merged differs from local"
l, s = statistics.median(local), statistics.median(sharded)
print(f"local sweep: {l:.2f} s CPU (runs {', '.join(f'{x:.2f}' for x in local)})")
print(f"{shards} shards + merge: {s:.2f} s CPU (runs {', '.join(f'{x:.2f}' for x in sharded)})")
print(f"ratio: {s / l:.3f}")
