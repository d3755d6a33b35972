"""Command-line start-up time: how long ``agent-orchestrator`` takes before it answers,
next to the floor of starting the interpreter alone.

    python bench/cli.py --repeat 10 --warmup 1

Each command runs as a new process with its output on a pipe, as a script would run
it, in a scratch folder with a migrated SQLite database. One JSON line per command:
``{"command", "runs", "median_ms", "min_ms", "max_ms", "over_floor_ms", "ratio"}``
(``over_floor_ms`` = median minus the floor's median, ``ratio`` = median / floor), then
with ``--where`` one line per command naming the packages whose imports take the most
time (self time summed per top-level package, from ``python -X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: dict[str, list[str]] = {
    "python (floor)": ["-c", "pass"],
    "--help": ["-m", "agent_orchestrator", "--help"],
    "list-agents": ["-m", "agent_orchestrator", "list-agents"],
    "list-agents --json": ["-m", "agent_orchestrator", "list-agents", "--json"],
    "migrate (up to date)": ["-m", "agent_orchestrator", "migrate"],
    "metrics": ["-m", "agent_orchestrator", "metrics", "--json"],
}
FLOOR = "python (floor)"


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
        AGENT_FILES_DIR=str(workdir / "files"),
    )
    return env


def time_once(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return elapsed * 1000


def where(args: list[str], env: dict[str, str], cwd: Path, top: int) -> list[str]:
    """The `top` top-level packages by summed import self time, as 'name ms'."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    by_package: dict[str, int] = defaultdict(int)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, module = line.removeprefix("import time:").split("|")
        by_package[module.strip().split(".")[0]] += int(self_us)
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return [f"{name} {us / 1000:.0f}" for name, us in ranked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--where", action="store_true", help="also name the slowest imports"
    )
    parser.add_argument("--top", type=int, default=8)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        env = environment(workdir)
        subprocess.run(
            [sys.executable, "-m", "agent_orchestrator", "migrate"],
            cwd=workdir,
            env=env,
            check=True,
            capture_output=True,
        )
        medians: dict[str, float] = {}
        for name, args in COMMANDS.items():
            for _ in range(options.warmup):
                time_once(args, env, workdir)
            runs = [time_once(args, env, workdir) for _ in range(options.repeat)]
            medians[name] = statistics.median(runs)
            floor = medians[FLOOR]
            print(
                json.dumps(
                    {
                        "command": name,
                        "runs": len(runs),
                        "median_ms": round(medians[name], 1),
                        "min_ms": round(min(runs), 1),
                        "max_ms": round(max(runs), 1),
                        "over_floor_ms": round(medians[name] - floor, 1),
                        "ratio": round(medians[name] / floor, 2),
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
        if options.where:
            for name, args in COMMANDS.items():
                if name == FLOOR:
                    continue
                print(
                    json.dumps(
                        {
                            "command": name,
                            "slowest_imports_ms": where(
                                args, env, workdir, options.top
                            ),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
