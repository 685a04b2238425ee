"""Times `mdconsole --help` end to end (interpreter start included); JSON on the last line."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(runs: int = 15) -> None:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "console.cli", "--help"], cwd=REPO,
                       capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(json.dumps({"help_s_median": round(statistics.median(times), 3),
                      "help_s_min": round(min(times), 3), "runs": runs}))


if __name__ == "__main__":
    main()
