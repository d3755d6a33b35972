"""`execute-workflow`'s live progress: log records written while the bars are drawn
appear above them, whole, and never torn into the display."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.cli.process import Terminal, cli, run_in_terminal

if TYPE_CHECKING:
    from pathlib import Path

MESSAGE = "kirjanpito-varoitus-4711"
PLUGINS = "tests.cli.agents"


def graph_file(tmp_path: Path, go_file: Path | None = None) -> Path:
    """Two steps: one that logs a warning mid-run, one after it."""
    talk: dict[str, object] = {"message": MESSAGE}
    if go_file is not None:
        talk["go_file"] = str(go_file)
    path = tmp_path / "graph.json"
    path.write_text(
        json.dumps(
            {
                "steps": [
                    {"id": "talk", "agent": "chatty_agent", "inputs": talk},
                    {
                        "id": "rest",
                        "agent": "wait_agent",
                        "inputs": {"seconds": 0},
                        "depends_on": ["talk"],
                    },
                ],
                "outputs": {"said": "${steps.talk.said}"},
            }
        )
    )
    return path


def test_logs_go_above_the_bars_on_a_terminal(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"

    def release_once_drawn(terminal: Terminal) -> None:
        # The warning comes only once the display shows the step running, so that
        # it is written while the bars are on the screen.
        if not go.exists() and any(
            "talk (chatty_agent)" in line and "running" in line
            for line in terminal.lines
        ):
            go.touch()

    code, terminal = run_in_terminal(
        "execute-workflow",
        "--graph",
        str(graph_file(tmp_path, go)),
        env={
            "DATABASE_URL": database_url,
            "AGENT_PLUGINS": PLUGINS,
            "AGENT_FILES_DIR": str(tmp_path / "files"),
        },
        on_output=release_once_drawn,
    )
    screen = terminal.lines
    shown = "\n".join(screen)
    assert code == 0, shown
    assert go.exists(), shown
    for logger in ("product logger", "plugin logger"):
        (record,) = [line for line in screen if f"{MESSAGE} ({logger})" in line]
        # The record is a line of its own: nothing of the display is on it...
        assert "━" not in record and "(chatty_agent)" not in record, shown
        # ...and it was printed above the bars, not into them.
        assert screen.index(record) < _row(screen, "talk (chatty_agent)"), shown
    # Each bar is on the screen once: no stale copy left behind by a torn redraw.
    for label in ("talk (chatty_agent)", "rest (wait_agent)"):
        assert sum(label in line for line in screen) == 1, shown
        assert "succeeded" in screen[_row(screen, label)], shown
    assert _row(screen, "rest (wait_agent)") < _row(screen, "SUCCEEDED"), shown


def _row(screen: list[str], text: str) -> int:
    return next(i for i, line in enumerate(screen) if text in line)


def test_piped_logs_stay_on_stderr(database_url: str, tmp_path: Path) -> None:
    done = cli(
        "execute-workflow",
        "--graph",
        str(graph_file(tmp_path)),
        env={
            "DATABASE_URL": database_url,
            "AGENT_PLUGINS": PLUGINS,
            "AGENT_FILES_DIR": str(tmp_path / "files"),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "logger)" not in done.stdout
    assert f"{MESSAGE} (product logger)" in done.stderr
    assert f"{MESSAGE} (plugin logger)" in done.stderr
    # Off a terminal the display is printed once, when it ends.
    assert done.stdout.count("talk (chatty_agent)") == 1
    result = done.stdout[done.stdout.index("{") :]
    assert json.loads(result) == {"said": MESSAGE}


def test_a_graph_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{steps: nope")
    done = cli(
        "execute-workflow",
        "--graph",
        str(path),
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )
    assert done.returncode == 2
    assert f"error: {path} is not a JSON document" in done.stderr
    both = cli("execute-workflow", "vat_report", "--graph", str(path))
    assert both.returncode == 2 and "give a TEMPLATE id or --graph FILE" in both.stderr
