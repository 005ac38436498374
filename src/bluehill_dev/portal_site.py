"""The customer portal page on the local stack, served the way CloudFront serves it in AWS:
the static files of `web/portal/` at `/`, the API under `/api/` on the same origin (CloudFront
sends `/api/*` to API Gateway, whose stage is `api`), and `config.json` telling the page where
Cognito is. Same origin means no CORS on the API, here and deployed."""

from __future__ import annotations

import contextlib
import json
import mimetypes
import secrets
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGE_DIR = Path(__file__).resolve().parents[2] / "web" / "portal"
API_PREFIX = "/api"
# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones urllib recomputes are not forwarded.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length",
                  "proxy-authorization", "te", "trailer"}


def page_config(cognito_url: str, client_id: str) -> dict[str, str]:
    """What the page reads from `config.json` (CDK writes the same keys next to the deployed page)."""
    return {"api_path": API_PREFIX, "cognito_url": cognito_url, "client_id": client_id}


def _handler(api_url: str, config: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class PortalSite(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # the API logs requests already
            return

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _static(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/config.json":
                self._answer(200, json.dumps(config).encode(), {"Content-Type": "application/json",
                                                                 "Cache-Control": "no-store"})
                return
            name = "index.html" if path in ("", "/") else path.lstrip("/")
            file = (PAGE_DIR / name).resolve()
            if not file.is_relative_to(PAGE_DIR) or not file.is_file():
                self._answer(404, b"not found", {"Content-Type": "text/plain"})
                return
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._answer(200, file.read_bytes(), {"Content-Type": kind, "Cache-Control": "no-cache"})

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {name: value for name, value in self.headers.items() if name.lower() not in _NOT_FORWARDED}
            request = urllib.request.Request(api_url + self.path[len(API_PREFIX):], data=body, headers=headers,
                                             method=self.command)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, answer, answered = response.status, response.read(), response.headers
            except urllib.error.HTTPError as refused:
                status, answer, answered = refused.code, refused.read(), refused.headers
            self._answer(status, answer, {name: value for name, value in answered.items()
                                          if name.lower() not in _NOT_FORWARDED})

        def _route(self) -> None:
            if self.path == API_PREFIX or self.path.startswith(API_PREFIX + "/"):
                self._proxy()
            elif self.command == "GET":
                self._static()
            else:
                self._answer(405, b"method not allowed", {"Content-Type": "text/plain"})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route

    return PortalSite


def start(host: str, port: int, api_url: str, config: dict[str, str], running: contextlib.ExitStack) -> str:
    """Serve the portal page on host:port until `running` closes; returns its URL."""
    server = ThreadingHTTPServer((host, port), _handler(api_url, config))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="portal-site", daemon=True).start()
    running.callback(server.server_close)
    running.callback(server.shutdown)
    return f"http://{host}:{port}"


def publish(stack_name: str, s3: Any = None, cloudformation: Any = None, cloudfront: Any = None) -> list[str]:
    """Put the page and its `config.json` in a deployed stack's portal bucket and invalidate
    CloudFront's copy; returns the keys written. Runs with the deployer's credentials."""
    import boto3

    from bluehill_dev.targets.deployed import read_outputs

    outputs = read_outputs(cloudformation or boto3.client("cloudformation"), stack_name)
    s3 = s3 or boto3.client("s3")
    region = s3.meta.region_name
    config = page_config(f"https://cognito-idp.{region}.amazonaws.com/", outputs["UserPoolClientId"])
    written = []
    for file in sorted(PAGE_DIR.iterdir()):
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=outputs["PortalBucketName"], Key=file.name, Body=file.read_bytes(), ContentType=kind,
                      CacheControl="no-cache")
        written.append(file.name)
    s3.put_object(Bucket=outputs["PortalBucketName"], Key="config.json", Body=json.dumps(config).encode(),
                  ContentType="application/json", CacheControl="no-store")
    written.append("config.json")
    (cloudfront or boto3.client("cloudfront")).create_invalidation(
        DistributionId=outputs["PortalDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": secrets.token_hex(16)},
    )
    return written
