"""Request encoding: query strings, URL-encoded forms, multipart forms and JSON."""

from __future__ import annotations

from pathlib import Path

import pooltest
from pooltest.filepost import encode_multipart_formdata

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "docs"
CASSETTE = CASSETTES / "request_encoding.yaml"
SERVICE = "http://127.0.0.1:8701"  # the demo server echoes what it was sent


def send(record_mode: str) -> None:
    """Each encoding, recorded live ("once") or replayed offline ("none")."""
    with pooltest.use_cassette(CASSETTE, record_mode=record_mode):
        http = pooltest.PoolManager()

        # GET, HEAD, DELETE and OPTIONS put `fields` in the query string.
        r = http.request("GET", f"{SERVICE}/echo", fields={"q": "pool test", "page": "2"})
        assert r.json()["path"] == "/echo?q=pool+test&page=2"

        # Other methods put them in the body: multipart by default ...
        r = http.request("POST", f"{SERVICE}/upload", fields={"tag": "x"})
        assert r.json() == {"files": {}, "form": {"tag": ["x"]}}

        # ... or application/x-www-form-urlencoded on request.
        r = http.request_encode_body(
            "POST", f"{SERVICE}/upload", fields={"tag": "x"}, encode_multipart=False
        )
        assert r.json() == {"files": {}, "form": {"tag": ["x"]}}

        # File tuples: (filename, data) or (filename, data, content type).
        r = http.request(
            "POST",
            f"{SERVICE}/upload",
            fields={"doc": ("report.csv", b"a,b\n1,2\n", "text/csv")},
        )
        assert r.json()["files"] == {"doc": ["report.csv", "text/csv", 8]}

        # json= serialises the body and sets Content-Type: application/json.
        r = http.request("POST", f"{SERVICE}/echo", json={"id": 7})
        headers = dict(r.json()["headers"])
        assert headers["Content-Type"] == "application/json"


def encoder_alone() -> None:
    """The encoder on its own: the body and the Content-Type carrying the boundary."""
    body, content_type = encode_multipart_formdata({"tag": "x"}, boundary="b0undary")
    assert content_type == "multipart/form-data; boundary=b0undary"
    assert body.startswith(b"--b0undary\r\n")


def record() -> None:
    """Against the live demo server (scripts/record_cassettes.py runs this)."""
    send("once")


def main() -> None:
    """Offline, from cassettes/docs/request_encoding.yaml."""
    send("none")
    encoder_alone()


if __name__ == "__main__":
    main()
