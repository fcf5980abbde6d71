#!/usr/bin/env python3
"""Miss counts from libCacheSim, the reference C cache simulator, on a shared trace.

tests/traces.rs (`libcachesim_parity`) replays the same trace through tiersim and holds
every row of the output to the exact miss count (and, for byte-sized caches, the exact
missed bytes) that libCacheSim reported. Regenerate the reference with:

    python3 -m venv /tmp/lcs && /tmp/lcs/bin/pip install libcachesim==0.3.5
    /tmp/lcs/bin/python tests/peer/reference.py \\
        ../shared/traces/libcachesim/cloudPhysicsIO.oracleGeneral.bin \\
        > tests/peer/cloudPhysicsIO.libcachesim.csv

Columns: `policy` (tiersim's --policy form), `libcachesim` (the call that made the row),
`size`, `size_unit` (entries: every object counts 1; bytes: real sizes), `requests`,
`misses`, `miss_bytes` (bytes only: libCacheSim counts an object as 1 byte when sizes are
ignored). Each point runs in its own process, so a crash or a hang (bounded by a timeout) in one
policy costs only its rows (reported on stderr) and never the file.
"""

import os
import struct
import subprocess
import sys

# tiersim's form of each policy, and the libCacheSim call with the same configuration.
# Where libCacheSim departs from the policy's paper or from tiersim's default, tiersim
# names the parameters that reproduce it (each module's docs say what they change).
# Left out: `lfuda`, because libCacheSim 0.3.5's LFUDA adds the minimum priority on a hit
# instead of 1, so priorities grow geometrically and some sizes never finish (see
# src/policy/lfuda.rs); `random`, whose stream differs; `perfect_lfu`, not in libCacheSim.
POLICIES = [
    ("fifo", "FIFO({size})"),
    ("lru", "LRU({size})"),
    ("lfu", "LFU({size})"),
    ("clock", "Clock({size})"),
    ("arc:size_scaled_adaptation=false", "ARC({size})"),
    ("sieve", "Sieve({size})"),
    ("s3fifo", "S3FIFO({size})"),
    ("2q", "TwoQ({size})"),
    ("slru:protected_ratio=0.75:segments=4", "SLRU({size})"),
    ("lirs:variant=libcachesim", "LIRS({size})"),
    ("wtinylfu:variant=libcachesim", "WTinyLFU({size})"),
    ("gdsf", "GDSF({size})"),
    ("belady", "Belady({size})"),
]
ENTRIES = [10, 100, 1000, 5000, 10000, 50000]
BYTES = [1 << 16, 1 << 20, 1 << 24, 1 << 26, 1 << 28, 1 << 30]
# A point takes seconds; libCacheSim 0.3.5's LFUDA never finishes on some.
TIMEOUT_S = 120
RECORD = struct.Struct("<IQIq")  # oracleGeneral: time, id, size, next access


def totals(path):
    """Requests and bytes in an oracleGeneral trace."""
    data = open(path, "rb").read()
    n = len(data) // RECORD.size
    return n, sum(RECORD.unpack_from(data, i * RECORD.size)[2] for i in range(n))


def point(path, call, size, unit):
    """One libCacheSim replay: prints its miss ratio and byte miss ratio."""
    import libcachesim as lcs

    param = lcs.ReaderInitParam()
    param.ignore_obj_size = unit == "entries"
    reader = lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE, param)
    cache = eval("lcs." + call.format(size=size))
    miss_ratio, byte_miss_ratio = cache.process_trace(reader)
    print(repr(miss_ratio), repr(byte_miss_ratio))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--point":
        point(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    requests, total_bytes = totals(path)
    from importlib.metadata import version

    print(f"# libcachesim {version('libcachesim')} on {os.path.basename(path)}: "
          "made by tests/peer/reference.py")
    print("policy,libcachesim,size,size_unit,requests,misses,miss_bytes")
    for unit, sizes in (("entries", ENTRIES), ("bytes", BYTES)):
        for policy, call in POLICIES:
            for size in sizes:
                try:
                    run = subprocess.run(
                        [sys.executable, __file__, "--point", path, call, str(size), unit],
                        capture_output=True,
                        text=True,
                        env=dict(os.environ, PYTHONHASHSEED="0"),
                        timeout=TIMEOUT_S,
                    )
                except subprocess.TimeoutExpired:
                    print(f"{policy} {size} {unit}: libcachesim ran over {TIMEOUT_S} s",
                          file=sys.stderr)
                    continue
                if run.returncode != 0:
                    print(f"{policy} {size} {unit}: libcachesim exited {run.returncode}",
                          file=sys.stderr)
                    continue
                miss_ratio, byte_miss_ratio = map(float, run.stdout.split()[-2:])
                # The ratios are quotients of integers below 2**53, so rounding recovers
                # the counts exactly.
                misses = round(miss_ratio * requests)
                miss_bytes = round(byte_miss_ratio * total_bytes) if unit == "bytes" else ""
                cell = call.format(size=size)
                print(f'{policy},"{cell}",{size},{unit},{requests},{misses},{miss_bytes}',
                      flush=True)


if __name__ == "__main__":
    main()
