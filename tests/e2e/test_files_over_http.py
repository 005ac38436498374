"""Files over HTTP on the e2e target: request an upload, POST the bytes to the presigned URL
(the local stack's moto S3, which checks the form against its policy as S3 does), the bucket's
event marks the file available (or rejected), and the download link works."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from foundation_helpers import unique

from bluehill_dev.harness_env import Api, TenantWorld

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.7\n" + b"e2e " * 100
SETTLE_SECONDS = 15  # the bucket's event reaches the handler asynchronously


def _request(api: Api, customer_id: str, content: bytes, filename: str = "Contract.pdf") -> dict[str, Any]:
    created = api.post("/files", {"filename": filename, "content_type": "application/pdf", "size": len(content),
                                  "customer_id": customer_id})
    assert created.status == 201, created.body
    return created.body


def _post(upload: dict[str, Any], content: bytes) -> requests.Response:
    return requests.post(upload["url"], data=upload["fields"], files={"file": ("upload", content)}, timeout=30)


def _settled(api: Api, file_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        read = api.get(f"/files/{file_id}")
        assert read.status == 200, read.body
        if read.body["status"] != "pending" or time.monotonic() > deadline:
            return read.body
        time.sleep(0.25)


@pytest.fixture(scope="module")
def customer(acme: TenantWorld) -> dict[str, Any]:
    created = acme.as_("admin").post("/customers", {"name": unique("E2E Files ")})
    assert created.status == 201, created.body
    return created.body


def test_an_upload_becomes_available_and_its_link_downloads_it(acme: TenantWorld, customer: dict[str, Any]) -> None:
    api = acme.as_("admin")
    file = _request(api, customer["id"], PDF)
    sent = _post(file["upload"], PDF)
    assert sent.status_code in (200, 201, 204), sent.content
    settled = _settled(api, file["id"])
    assert settled["status"] == "available", settled
    download = requests.get(settled["download_url"], timeout=30)
    assert download.status_code == 200 and download.content == PDF
    # S3 answers with the Content-Disposition the signed link asks for (moto ignores it).
    asked = parse_qs(urlsplit(settled["download_url"]).query)["response-content-disposition"][0]
    assert asked.startswith("attachment;")


def test_the_bucket_refuses_bytes_over_the_declared_size(acme: TenantWorld, customer: dict[str, Any]) -> None:
    file = _request(acme.as_("admin"), customer["id"], PDF)
    refused = _post(file["upload"], PDF + b"!")
    assert refused.status_code == 400 and b"EntityTooLarge" in refused.content


def test_an_executable_declared_as_a_pdf_is_rejected(acme: TenantWorld, customer: dict[str, Any]) -> None:
    api = acme.as_("admin")
    program = b"MZ\x90\x00" + b"\x00" * 300
    file = _request(api, customer["id"], program, filename="invoice.pdf")
    assert _post(file["upload"], program).status_code in (200, 201, 204)
    settled = _settled(api, file["id"])
    assert settled["status"] == "rejected" and "executable" in settled["rejection"]
    assert settled.get("download_url") is None
