"""Cold start of ``python -m asyncjobs list`` against importing its dependencies.

Target: the CLI's ``list`` (demo app, SQLite history in a fresh temp folder)
within 1.5x of ``python -c "import apscheduler, pydantic_settings, httpx,
aiosmtplib"``. Each command runs N times in a fresh subprocess, alternating,
so that load on the machine hits both alike; medians are compared.

Usage: python benchmarks/bench_cold_start.py [-n 15]
Exit status 1 when the ratio is above the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 1.5
BASELINE = [sys.executable, "-c", "import apscheduler, pydantic_settings, httpx, aiosmtplib"]
CLI = [sys.executable, "-m", "asyncjobs", "list"]


def timed(command: list[str], env: dict[str, str], cwd: str) -> float:
    """Wall-clock seconds of one run (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs of each command (15)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ASYNCJOBS_")}
    with tempfile.TemporaryDirectory() as cwd:
        env["ASYNCJOBS_STORE_URL"] = f"sqlite:///{cwd}/history.db"
        # Warm the OS file cache and create the database: "cold" means a new
        # interpreter, not a cold disk or a first-ever migration.
        timed(BASELINE, env, cwd)
        timed(CLI, env, cwd)
        base, cli = [], []
        for _ in range(args.n):
            base.append(timed(BASELINE, env, cwd))
            cli.append(timed(CLI, env, cwd))
    base_ms, cli_ms = statistics.median(base) * 1000, statistics.median(cli) * 1000
    ratio = cli_ms / base_ms
    print(f"import deps      median {base_ms:7.1f} ms  ({args.n} runs)")
    print(f"asyncjobs list   median {cli_ms:7.1f} ms  ({args.n} runs)")
    print(f"ratio            {ratio:.2f}x (target <= {TARGET}x)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
