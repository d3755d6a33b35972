"""The longest test modules first, so that parallel workers end together.

`make test` runs the suite in worker processes, a module at a time each
(``--dist loadscope``). Handed out in collection order, or by number of tests, the few
modules that start servers, fuzz or read photos come last and one worker runs them
alone while the others idle; handed out longest first, the short ones fill the gaps at
the end. The seconds a module took are kept in ``tests/module_seconds.json`` (a
module missing from it counts as the median); they only order the run, so a stale
figure costs time, never a result. Refresh them after a change of weight with
``pytest -n 3 --dist loadscope --record-module-seconds``.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

SECONDS = Path(__file__).resolve().parents[1] / "module_seconds.json"


def module_of(nodeid: str) -> str:
    """The test module's path in a node id (``tests/a/test_b.py::test_c[x]``)."""
    return nodeid.split("::", 1)[0]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-module-seconds",
        action="store_true",
        help=f"write each module's seconds (setup, call, teardown) to {SECONDS.name}",
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    seconds: dict[str, float] = (
        json.loads(SECONDS.read_text()) if SECONDS.is_file() else {}
    )
    unknown = statistics.median(seconds.values()) if seconds else 0.0
    # A stable sort: each module's tests keep their order.
    items.sort(key=lambda item: -seconds.get(module_of(item.nodeid), unknown))


class _Recorder:
    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[module_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        ordered = {
            module: round(s, 1)
            for module, s in sorted(self.seconds.items(), key=lambda kv: -kv[1])
        }
        SECONDS.write_text(json.dumps(ordered, indent=1) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    # Reports reach the controlling process from every worker; record there only.
    if config.getoption("--record-module-seconds") and not hasattr(
        config, "workerinput"
    ):
        config.pluginmanager.register(_Recorder(), "module-seconds-recorder")
