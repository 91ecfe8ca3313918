"""Wall-clock time of ``dmi-live --help`` and of one command's ``--help`` (a fresh Python
process each time, as a user runs it). Prints the median of ``--repeat`` runs.

    .venv/bin/python bench/cli_help.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def seconds(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dmi_live.cli", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    figures = {}
    for name, argv in (("help", ["--help"]), ("metrics_help", ["metrics", "--help"]),
                       ("export_help", ["export", "--help"])):
        runs = [seconds(*argv) for _ in range(args.repeat)]
        figures[name] = statistics.median(runs)
        print(f"dmi-live {' '.join(argv)}: median {figures[name]:.3f} s of {args.repeat}")
    print(" ".join(f"{k}_s={v:.3f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
