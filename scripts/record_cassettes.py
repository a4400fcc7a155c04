"""Re-record the project's own cassettes in ``cassettes/``: ``python scripts/record_cassettes.py``.

Every file is recorded for real, never written by hand: the script starts loopback servers on
fixed ports (so URLs stay stable across re-recordings and docs can name them), talks to them,
and saves what crossed the wire. Three kinds of files come out:

* ``pooltest_*.yaml`` — recorded by pooltest through :class:`pooltest.cassette.Cassette` (GET
  JSON, a multipart upload, a gzip response, a redirect, a PoolManager LRU walk over three
  origins);
* ``vcrpy_*.yaml`` — recorded by vcrpy 9 with urllib3 (dev dependencies), as interop fixtures
  that pooltest must load and replay;
* ``docs/`` — the cassettes the documentation's examples replay. The folder is emptied, then
  each ``docs/examples/*.py`` that defines ``record()`` is imported and its ``record()`` called:
  the very code the example shows as "run once against the live service". The pytest plugin
  example is run by an inner ``pytest --record-mode=once --cassette-dir=cassettes/docs/
  plugin_example`` on a copy named ``test_upload.py``.

Servers: :class:`pooltest._demoserver.DemoServer` on ports 8701-8703, plus a small origin on
8704 defined here (gzip-encoded JSON on GET, an items API on ``POST /items``). ``pooltest demo``
(run by the CLI example) starts its own servers on free ports. Finally every file is run through
``pooltest check``; the script fails if one has findings.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pooltest._demoserver import DemoServer
from pooltest.cassette import Cassette
from pooltest.cli import main as pooltest_main

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "cassettes"
DOCS_CASSETTES = HERE / "docs"
EXAMPLES = ROOT / "docs" / "examples"
PLUGIN_EXAMPLE = EXAMPLES / "plugin_example.py"
PORTS = (8701, 8702, 8703)
ORIGIN_PORT = 8704
GZIP_PAYLOAD = json.dumps({"compressed": True, "items": list(range(20))}).encode()
INNER_PYTEST_TIMEOUT = 300


class _OriginHandler(BaseHTTPRequestHandler):
    """GET: ``GZIP_PAYLOAD`` gzip-encoded (fixed mtime, so bytes are stable).

    ``POST /items``: 201 Created with ``{"id": 7, "name": <the JSON body's name>}``, and only
    the ``Content-Type`` and ``Content-Length`` headers (the format page shows this recording).
    """

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

    def do_POST(self) -> None:
        sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        found = self.path.split("?", 1)[0] == "/items"
        answer = {"id": 7, "name": json.loads(sent)["name"]} if found else {"error": "not found"}
        body = json.dumps(answer).encode()
        self.send_response_only(201 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def _origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", ORIGIN_PORT), _OriginHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{ORIGIN_PORT}"
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


def _example_recorder(path: Path) -> Callable[[], None] | None:
    """The ``record`` function of the example at ``path``, or None if it has none."""
    spec = importlib.util.spec_from_file_location(f"_docs_example_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recorder: Callable[[], None] | None = getattr(module, "record", None)
    return recorder


def record_examples() -> None:
    """Empty ``cassettes/docs/``, then run every example's ``record()`` and the plugin example."""
    shutil.rmtree(DOCS_CASSETTES, ignore_errors=True)
    DOCS_CASSETTES.mkdir()
    for path in sorted(EXAMPLES.glob("*.py")):
        recorder = _example_recorder(path)
        if recorder is not None:
            print(f"recording {os.path.relpath(path, ROOT)}")
            recorder()
    record_plugin_example()


def record_plugin_example() -> None:
    """Run the plugin example, as ``test_upload.py``, once in record mode into the docs folder."""
    target = DOCS_CASSETTES / "plugin_example"
    with tempfile.TemporaryDirectory() as folder:
        test_file = Path(folder) / "test_upload.py"
        shutil.copyfile(PLUGIN_EXAMPLE, test_file)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--rootdir={folder}",
            "--record-mode=once",
            f"--cassette-dir={target}",
            str(test_file),
        ]
        print(f"recording {os.path.relpath(PLUGIN_EXAMPLE, ROOT)} (pytest --record-mode=once)")
        subprocess.run(command, cwd=folder, check=True, timeout=INNER_PYTEST_TIMEOUT)


def main() -> int:
    """Record everything, then lint it; return the exit status."""
    HERE.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(DemoServer(port=port)) for port in PORTS]
        urls = [server.url for server in servers]
        origin_url = stack.enter_context(_origin())
        record_pooltest(urls, origin_url)
        record_vcrpy(urls, origin_url)
        record_examples()
    files = sorted(str(p) for p in HERE.rglob("*.yaml"))
    print(f"Recorded {len(files)} cassettes into {os.path.relpath(HERE)}/")
    return pooltest_main(["check", *files])


if __name__ == "__main__":
    sys.exit(main())
