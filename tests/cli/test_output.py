"""Output for scripts: piped tables and JSON come out whole, not folded at 80 columns,
and usage errors are plain lines."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.cli.process import cli

if TYPE_CHECKING:
    from pathlib import Path


def test_a_piped_table_keeps_each_row_on_one_line(tmp_path: Path) -> None:
    listed = cli("list-agents", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    agents = json.loads(listed.stdout)  # whole JSON: no string folded in two
    longest = max(agents, key=lambda a: len(a["description"]["fi"]))
    assert len(longest["description"]["fi"]) > 80  # else the test proves nothing

    table = cli("list-agents", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    for agent in agents:
        (row,) = [line for line in lines if f" {agent['id']} " in line]
        assert agent["description"]["fi"] in row


def test_a_usage_error_is_plain_text_for_scripts() -> None:
    done = cli("generate-api-key", "bot", "superuser")
    assert done.returncode == 2
    assert (
        "Error: Invalid value for ROLE: unknown role 'superuser'; use one of: "
        "viewer, operator, admin" in done.stderr.splitlines()
    )
    assert "╭" not in done.stderr  # no panel drawn for a terminal that is not there
