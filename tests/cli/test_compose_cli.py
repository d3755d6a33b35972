"""`execute-workflow --graph` runs a for-each over a folder's files with a
sub-workflow per file, and refuses an ill-typed one with the problem's path."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tests.cli.process import cli

if TYPE_CHECKING:
    from pathlib import Path

ELEMENT = {
    "variables": {"file": {"type": "string", "required": True}},
    "steps": [
        {"id": "echo", "agent": "echo_agent", "inputs": {"text": "${vars.file}"}}
    ],
    "outputs": {"text": "${steps.echo.text}"},
}


def test_a_for_each_over_files_runs_from_a_graph_file(
    database_url: str, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    folder = files / "acme" / "kuitit"
    folder.mkdir(parents=True)
    for name in ("2.jpg", "1.jpg"):
        (folder / name).write_bytes(b"x")
    each: dict[str, Any] = {
        "id": "each",
        "for_each": "${steps.files.files}",
        "workflow": {"graph": ELEMENT},
        "inputs": {"file": "${item}"},
    }
    graph = {
        "steps": [
            {
                "id": "files",
                "agent": "files_agent",
                "inputs": {"folder": "kuitit", "pattern": "*.jpg"},
            },
            each,
        ],
        "outputs": {"texts": "${steps.each.items}"},
    }
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    env = {
        "DATABASE_URL": database_url,
        "AGENT_FILES_DIR": str(files),
        "AGENT_PLUGINS": "tests.support.agents",
    }
    ran = cli("execute-workflow", "--graph", str(path), "--tenant", "acme", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SUCCEEDED" in ran.stdout
    assert "2 elements done" in ran.stdout
    result = json.loads(ran.stdout[ran.stdout.index("{") :])
    assert result == {"texts": [{"text": "kuitit/1.jpg"}, {"text": "kuitit/2.jpg"}]}

    each["inputs"] = {"file": "${index}"}
    path.write_text(json.dumps(graph), encoding="utf-8")
    refused = cli("execute-workflow", "--graph", str(path), "--tenant", "acme", env=env)
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "steps[1].inputs.file" in said and "integer" in said
