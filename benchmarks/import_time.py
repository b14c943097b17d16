"""How long ``import reglab.cli`` (what ``reglab --help`` pays before printing) takes,
as a ratio to ``import numpy``, measured side by side in one run.

Each sample is a fresh interpreter (``python -c "import ..."``), so nothing is
cached in ``sys.modules``; the two commands alternate so that a busy machine
slows both alike. Prints the medians with min and max, and the ratio of the
medians; the target is at most 2x. Run from the repository root:

    python benchmarks/import_time.py [--rounds 21]

Uses the reglab that ``python`` imports (set ``PYTHONPATH=src`` for this tree).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {"numpy": "import numpy", "reglab.cli": "import reglab.cli"}


def sample(code: str) -> float:
    """Wall time of one fresh ``python -c code``, in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="samples of each command")
    rounds = parser.parse_args().rounds
    for code in COMMANDS.values():  # warm the OS file cache before measuring
        sample(code)
    times = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, code in COMMANDS.items():
            times[name].append(sample(code))
    for name, values in times.items():
        print(f"python -c \"{COMMANDS[name]}\": median {statistics.median(values) * 1e3:.0f} ms "
              f"(min {min(values) * 1e3:.0f}, max {max(values) * 1e3:.0f}; {rounds} runs)")
    ratio = statistics.median(times["reglab.cli"]) / statistics.median(times["numpy"])
    print(f"ratio reglab.cli / numpy: {ratio:.2f}x (target: at most 2x)")
    per_round = [r / n for r, n in zip(times["reglab.cli"], times["numpy"])]
    print(f"per-round ratios: min {min(per_round):.2f}x, max {max(per_round):.2f}x")


if __name__ == "__main__":
    main()
