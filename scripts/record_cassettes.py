"""Re-record the project's own cassettes in ``cassettes/``: ``python scripts/record_cassettes.py``.

Every file is recorded for real, never written by hand: the script starts loopback servers on
fixed ports (so URLs stay stable across re-recordings and docs can name them), talks to them,
and saves what crossed the wire. Two kinds of files come out:

* ``pooltest_*.yaml`` — recorded by pooltest through :class:`pooltest.cassette.Cassette` (GET
  JSON, a multipart upload, a gzip response, a redirect, a PoolManager LRU walk over three
  origins);
* ``vcrpy_*.yaml`` — recorded by vcrpy 9 with urllib3 (dev dependencies), as interop fixtures
  that pooltest must load and replay.

Servers: :class:`pooltest._demoserver.DemoServer` on ports 8701-8703, plus a tiny gzip origin
on 8704 defined here. Each cassette is rewritten from scratch, and finally every file is run
through ``pooltest check`` (the script fails if one has findings).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pooltest._demoserver import DemoServer
from pooltest.cassette import Cassette
from pooltest.cli import main as pooltest_main

HERE = Path(__file__).resolve().parent.parent / "cassettes"
PORTS = (8701, 8702, 8703)
GZIP_PORT = 8704
GZIP_PAYLOAD = json.dumps({"compressed": True, "items": list(range(20))}).encode()


class _GzipHandler(BaseHTTPRequestHandler):
    """Answers every GET with ``GZIP_PAYLOAD`` gzip-encoded (fixed mtime, so bytes are stable)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = gzip.compress(GZIP_PAYLOAD, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def _gzip_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", GZIP_PORT), _GzipHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{GZIP_PORT}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _fresh(name: str) -> Cassette:
    path = HERE / name
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return Cassette(path, record_mode="once")


def record_pooltest(urls: list[str], gzip_url: str) -> None:
    """The pooltest-recorded cassettes."""
    first = urls[0]
    with _fresh("pooltest_get_json.yaml") as cassette, cassette.pool_manager() as http:
        http.request("GET", f"{first}/json")
        http.request("GET", f"{first}/echo?page=2", headers={"Accept": "application/json"})
    with _fresh("pooltest_multipart_upload.yaml") as cassette, cassette.pool_manager() as http:
        fields: dict[str, str | tuple[str, bytes, str]] = {
            "doc": ("report.txt", b"hello, cassette\n", "text/plain"),
            "tag": "demo",
        }
        http.request("POST", f"{first}/upload", fields=fields)
        http.request("POST", f"{first}/upload", fields={"q": "pooling"}, encode_multipart=False)
        http.request("POST", f"{first}/echo", json={"name": "pooltest", "tags": ["a", "b"]})
    with _fresh("pooltest_gzip.yaml") as cassette, cassette.pool_manager() as http:
        http.request("GET", f"{gzip_url}/data")
    with _fresh("pooltest_redirect.yaml") as cassette, cassette.pool_manager() as http:
        http.request("GET", f"{first}/redirect?to={urls[1]}/json")
    with (
        _fresh("pooltest_lru_pools.yaml") as cassette,
        cassette.pool_manager(num_pools=2) as http,
    ):
        for url in urls:  # three origins through two pools: the first one is evicted
            http.request("GET", f"{url}/json")
        http.request("GET", f"{first}/json")  # and comes back as a new pool


def record_vcrpy(urls: list[str], gzip_url: str) -> None:
    """The vcrpy-recorded interop cassettes (vcrpy 9 patching urllib3)."""
    import urllib3
    import vcr  # type: ignore[import-untyped]

    recorder = vcr.VCR(record_mode="all", decode_compressed_response=False)
    first = urls[0]
    for name, calls in (
        ("vcrpy_urllib3_get.yaml", [("GET", f"{first}/json", None)]),
        ("vcrpy_urllib3_post_json.yaml", [("POST", f"{first}/echo", {"n": 1})]),
        ("vcrpy_urllib3_gzip.yaml", [("GET", f"{gzip_url}/data", None)]),
    ):
        path = HERE / name
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with recorder.use_cassette(str(path)), urllib3.PoolManager() as http:
            for method, url, payload in calls:
                http.request(method, url, json=payload)


def main() -> int:
    """Record everything, then lint it; return the exit status."""
    HERE.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(DemoServer(port=port)) for port in PORTS]
        urls = [server.url for server in servers]
        gzip_url = stack.enter_context(_gzip_origin())
        record_pooltest(urls, gzip_url)
        record_vcrpy(urls, gzip_url)
    files = sorted(str(p) for p in HERE.glob("*.yaml"))
    print(f"Recorded {len(files)} cassettes into {os.path.relpath(HERE)}/")
    return pooltest_main(["check", *files])


if __name__ == "__main__":
    sys.exit(main())
