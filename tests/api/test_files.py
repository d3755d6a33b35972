"""``POST /api/v1/agent-orchestrator/files`` over a real server: an uploaded receipt is
stored in the caller's files area and its name runs `receipt_processing`; kinds are
told by content; oversize, wrong-type, keyless and viewer uploads are refused with
clear JSON errors; a text with NUL bytes past the sniffed part is read clean; uploads
over the tenant's daily quota are refused with 413."""

from __future__ import annotations

import io
import os
import random
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from tests.support.documents import make_receipt, text_of
from tests.support.scans import render_image
from tests.support.server import ServerProcess

from .conftest import make_keys

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"
FILES = f"{BASE}/files"


def http(api: Api, who: str = "operator") -> httpx.AsyncClient:
    headers = {"X-API-Key": api.keys[who]} if who else {}
    return httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60)


def receipt_png(seed: int) -> tuple[bytes, Any]:
    rng = random.Random(seed)
    doc = make_receipt(rng)
    buffer = io.BytesIO()
    render_image(doc, rng).save(buffer, "PNG")
    return buffer.getvalue(), doc


async def finished(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status = (await client.get(f"{BASE}/workflows/{execution_id}/status")).json()
        if status["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            result = await client.get(f"{BASE}/workflows/{execution_id}/result")
            return {**status, "result": result.json()["result"]}
        assert time.monotonic() < deadline, status
        await anyio.sleep(0.2)


async def test_an_upload_runs_receipt_processing(api: Api) -> None:
    image, doc = receipt_png(7001)
    async with http(api) as client:
        uploaded = await client.post(
            FILES, files={"file": ("Kuitti K-Market ä.png", image, "image/png")}
        )
        assert uploaded.status_code == 201, uploaded.text
        body = uploaded.json()
        assert body["size"] == len(image) and body["content_type"] == "image/png"
        name = body["file"]
        assert name.startswith("uploads/") and name.endswith("-Kuitti_K-Market_a.png")
        assert (api.files_dir / "acme" / name).read_bytes() == image
        started = await client.post(
            f"{BASE}/workflows/execute",
            json={
                "template_id": "receipt_processing",
                "initial_variables": {"receipt_file": name},
            },
        )
        assert started.status_code == 202, started.text
        done = await finished(client, started.json()["execution_id"])
    assert done["status"] == "SUCCEEDED", done
    receipt = done["result"]["receipt"]
    assert receipt["total"] == float(doc.total)
    assert receipt["date"] == doc.date.isoformat()
    assert receipt["business_id"] == doc.business_id
    assert done["result"]["entry_ids"]


async def test_another_tenants_upload_is_out_of_reach(api: Api) -> None:
    async with http(api, "other") as client:
        theirs = await client.post(
            FILES,
            files={"file": ("k.txt", b"Globex Oy\nYHTEENSA 9,00\n", "text/plain")},
        )
    assert theirs.status_code == 201
    name = theirs.json()["file"]
    assert (api.files_dir / "globex" / name).is_file()
    async with http(api) as client:
        started = await client.post(
            f"{BASE}/workflows/execute",
            json={
                "template_id": "receipt_processing",
                "initial_variables": {"receipt_file": f"../globex/{name}"},
            },
        )
        done = await finished(client, started.json()["execution_id"])
    assert done["status"] == "FAILED"
    assert "outside your files area" in done["error_message"]


async def test_content_decides_the_kind(api: Api) -> None:
    image, _ = receipt_png(7002)
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    async with http(api) as client:
        generic = await client.post(
            FILES, files={"file": ("scan", image, "application/octet-stream")}
        )
        assert generic.status_code == 201
        assert generic.json()["content_type"] == "image/png"
        assert generic.json()["file"].endswith("-scan.png")
        misnamed = await client.post(
            FILES, files={"file": ("kuitti.png", pdf, "image/png")}
        )
        assert misnamed.status_code == 415
        error = misnamed.json()["error"]
        assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert "sent as image/png but its content is PDF" in error["message"]
        archive = await client.post(
            FILES, files={"file": ("kuitit.zip", b"PK\x03\x04" + bytes(64), "")}
        )
        assert archive.status_code == 415
        assert (
            "PNG, JPEG, TIFF, PDF or UTF-8 text" in archive.json()["error"]["message"]
        )
        not_multipart = await client.post(FILES, json={"file": "kuitti.png"})
        assert not_multipart.status_code == 415
        assert "multipart/form-data" in not_multipart.json()["error"]["message"]
        empty = await client.post(
            FILES, files={"file": ("tyhja.png", b"", "image/png")}
        )
        assert empty.status_code == 422
        assert "empty" in empty.json()["error"]["problems"][0]["message"]
        wrong_field = await client.post(FILES, files={"kuva": ("k.png", image)})
        assert wrong_field.status_code == 422
        assert wrong_field.json()["error"]["problems"][0]["path"] == "file"


async def test_fifty_megabytes_is_refused_with_413(api: Api) -> None:
    big = b"%PDF-1.7\n" + os.urandom(50 * 1024 * 1024)
    async with http(api) as client:
        refused = await client.post(
            FILES, files={"file": ("iso.pdf", big, "application/pdf")}
        )
        assert refused.status_code == 413
        error = refused.json()["error"]
        assert error["code"] == "PAYLOAD_TOO_LARGE"
        assert "over the 20 MiB limit" in error["message"]
        # Nothing of it was stored, and the server still answers.
        assert (await client.get(f"{BASE}/agents")).status_code == 200
    uploads = api.files_dir / "acme" / "uploads"
    assert not any(p.name.endswith("-iso.pdf") for p in uploads.glob("*"))


async def test_keys_and_roles(api: Api) -> None:
    files = {"file": ("k.txt", b"Kuitti\n", "text/plain")}
    async with http(api, "") as client:
        anonymous = await client.post(FILES, files=files)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    async with http(api, "viewer") as client:
        viewer = await client.post(FILES, files=files)
    assert viewer.status_code == 403
    assert viewer.json()["error"]["code"] == "FORBIDDEN"
    assert "needs role OPERATOR" in viewer.json()["error"]["message"]


async def test_uploads_are_audited(api: Api) -> None:
    async with http(api) as client:
        made = await client.post(FILES, files={"file": ("a.txt", b"A\n", "text/plain")})
    name = made.json()["file"]
    query = "{ auditLogs(first: 50) { edges { node { action resourceId details } } } }"
    body = await api.client("admin")(query)
    nodes = [e["node"] for e in body["data"]["auditLogs"]["edges"]]
    [entry] = [
        n for n in nodes if n["action"] == "file.upload" and n["resourceId"] == name
    ]
    assert entry["details"] == {
        "size": 2,
        "content_type": "text/plain; charset=utf-8",
        "via": "rest",
    }


async def test_a_text_upload_with_nul_after_the_sniffed_part_is_processed(
    api: Api,
) -> None:
    _, doc = receipt_png(7003)
    # The kind is told by the first 8 KiB; the NUL bytes come after them.
    body = text_of(doc) + "\n" * 9000 + "loppu\x00rivi\n"
    async with http(api) as client:
        uploaded = await client.post(
            FILES, files={"file": ("nul.txt", body.encode(), "text/plain")}
        )
        assert uploaded.status_code == 201, uploaded.text
        started = await client.post(
            f"{BASE}/workflows/execute",
            json={
                "template_id": "receipt_processing",
                "initial_variables": {"receipt_file": uploaded.json()["file"]},
            },
        )
        assert started.status_code == 202, started.text
        done = await finished(client, started.json()["execution_id"])
    assert done["status"] == "SUCCEEDED", done
    assert done["result"]["receipt"]["total"] == float(doc.total)


def test_an_upload_over_the_daily_quota_is_refused_with_413(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    # The quota is counted from the files, whatever the database.
    url = database_factory.sqlite(tmp_path)
    keys = make_keys(url, {"operator": ("operator", "acme")})
    files = tmp_path / "files"
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(files),
        "AGENT_UPLOAD_QUOTA_BYTES_PER_DAY": "100",
    }
    server = ServerProcess(env, tmp_path / "server.log").start()
    try:
        headers = {"X-API-Key": keys["operator"]}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            fits = client.post(
                FILES, files={"file": ("a.txt", b"a" * 100, "text/plain")}
            )
            assert fits.status_code == 201, fits.text
            over = client.post(FILES, files={"file": ("b.txt", b"b\n", "text/plain")})
    finally:
        server.stop()
    assert over.status_code == 413
    error = over.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert "over the quota of 100 bytes in 24 hours" in error["message"]
    assert [p.name for p in (files / "acme" / "uploads").iterdir()] == [
        fits.json()["file"].removeprefix("uploads/")
    ]
