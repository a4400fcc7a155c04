"""``RequestMethods``: the request-building layer shared by pools and pool managers.

Subclasses implement :meth:`RequestMethods.urlopen`; this class turns the friendly
``request(method, url, fields=..., json=...)`` call into it. The only real decision is where the
``fields`` go:

* for ``DELETE``, ``GET``, ``HEAD`` and ``OPTIONS`` (:attr:`RequestMethods._encode_url_methods`)
  they are URL-encoded into the query string (:meth:`RequestMethods.request_encode_url`);
* for every other method they become the body (:meth:`RequestMethods.request_encode_body`),
  multipart/form-data by default or application/x-www-form-urlencoded on request. A file object
  among multipart values turns the body into a streaming
  :class:`~pooltest.filepost.MultipartBody`, announced with an exact Content-Length.

Headers: ``headers=None`` means the instance's default ``headers``. Whatever mapping is chosen,
``urlopen`` always receives a fresh :class:`~pooltest._collections.HTTPHeaderDict` copy, so neither
the caller's mapping nor the defaults are ever changed by what is added here or further down.
"""

from __future__ import annotations

import json as _json
import typing
from urllib.parse import urlencode

from ._collections import HTTPHeaderDict
from .filepost import _TYPE_FIELDS, MultipartBody, multipart_body

if typing.TYPE_CHECKING:
    from ._base_connection import _TYPE_BODY
    from .response import BaseHTTPResponse

__all__ = ["RequestMethods"]

_TYPE_ENCODE_URL_FIELDS = (
    typing.Sequence[tuple[str, str | bytes]] | typing.Mapping[str, str | bytes]
)


class RequestMethods:
    """Mixin giving a class with an :meth:`urlopen` the ``request*`` convenience methods.

    ``headers`` are the default headers, used by every request that passes ``headers=None``;
    a request that passes its own headers uses those instead (they are not merged).
    """

    _encode_url_methods: typing.ClassVar[set[str]] = {"DELETE", "GET", "HEAD", "OPTIONS"}

    def __init__(self, headers: typing.Mapping[str, str] | None = None) -> None:
        self.headers = headers or {}

    def urlopen(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None = None,
        headers: typing.Mapping[str, str] | None = None,
        encode_multipart: bool = True,
        multipart_boundary: str | None = None,
        **kw: typing.Any,
    ) -> BaseHTTPResponse:
        """Send one request; subclasses must implement it (this one raises NotImplementedError)."""
        raise NotImplementedError(
            "Classes extending RequestMethods must implement their own ``urlopen`` method."
        )

    def request(
        self,
        method: str,
        url: str,
        body: _TYPE_BODY | None = None,
        fields: _TYPE_FIELDS | None = None,
        headers: typing.Mapping[str, str] | None = None,
        json: typing.Any | None = None,
        **urlopen_kw: typing.Any,
    ) -> BaseHTTPResponse:
        """Send a request, encoding ``fields`` into the URL or the body depending on ``method``.

        ``method`` is upper-cased. ``body`` is bytes, str, an iterable of chunks or a file
        object. ``json`` (anything but ``None``) is serialised compactly as UTF-8 and sent as
        the body with ``Content-Type: application/json`` unless the headers name a
        Content-Type; it cannot be combined with ``body`` (TypeError). ``fields`` cannot be
        combined with a body for body-encoding methods (TypeError). Other keyword arguments go
        to :meth:`urlopen`.
        """
        method = method.upper()
        if json is not None:
            if body is not None:
                raise TypeError(
                    "request got values for both 'body' and 'json' parameters which are "
                    "mutually exclusive"
                )
            headers = _json_headers(self.headers if headers is None else headers)
            body = _json.dumps(json, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if body is not None:
            urlopen_kw["body"] = body
        if method in self._encode_url_methods:
            if not urlopen_kw:  # the same call; without ``**{}`` it is a much cheaper one
                return self.request_encode_url(method, url, fields=fields, headers=headers)  # type: ignore[arg-type]
            return self.request_encode_url(
                method,
                url,
                fields=fields,  # type: ignore[arg-type]
                headers=headers,
                **urlopen_kw,
            )
        return self.request_encode_body(method, url, fields=fields, headers=headers, **urlopen_kw)

    def request_encode_url(
        self,
        method: str,
        url: str,
        fields: _TYPE_ENCODE_URL_FIELDS | None = None,
        headers: typing.Mapping[str, str] | None = None,
        **urlopen_kw: typing.Any,
    ) -> BaseHTTPResponse:
        """Send a request with ``fields`` URL-encoded and appended to ``url`` after a ``?``.

        ``headers=None`` means the default headers (passed on, not copied). Other keyword
        arguments (``body`` included) go to :meth:`urlopen` unchanged.
        """
        # Passed through uncopied, as urllib3 does: nothing below mutates a caller's headers
        # (redirects and proxies build new mappings), and copying cost every GET a microsecond.
        if headers is None:
            headers = self.headers
        if fields:
            url += "?" + urlencode(fields)
        if not urlopen_kw:  # the same call; without ``**{}`` it is a much cheaper one
            return self.urlopen(method, url, headers=headers)
        return self.urlopen(method, url, headers=headers, **urlopen_kw)

    def request_encode_body(
        self,
        method: str,
        url: str,
        fields: _TYPE_FIELDS | None = None,
        headers: typing.Mapping[str, str] | None = None,
        encode_multipart: bool = True,
        multipart_boundary: str | None = None,
        **urlopen_kw: typing.Any,
    ) -> BaseHTTPResponse:
        """Send a request whose body is ``fields``, encoded as a form.

        ``fields`` maps names to values, or is a sequence of ``(name, value)`` pairs or
        :class:`~pooltest.fields.RequestField` objects. A value is the data (str or bytes), or
        a ``(filename, data)`` / ``(filename, data, content_type)`` tuple for a file upload,
        where ``data`` may also be a binary file object.

        With ``encode_multipart=True`` (the default) the body is multipart/form-data with
        ``multipart_boundary`` (random by default). If any file upload's data is a file object,
        the body is a streaming :class:`~pooltest.filepost.MultipartBody` (the files are read
        64 KiB at a time, from their current positions, each time the body is sent) and a
        ``Content-Length`` header gives its exact size. Otherwise the body is bytes. With
        ``encode_multipart=False`` the fields are URL-encoded as
        application/x-www-form-urlencoded (no file objects then).

        Unlike urllib3 2.x, which keeps a caller's Content-Type and so sends a body the server
        cannot parse, any ``Content-Type`` header in ``headers`` (whatever its letter case) is
        *replaced* by the content type of the encoded body when ``fields`` are given.

        ``fields`` together with a ``body`` keyword raises TypeError. ``headers=None`` means the
        default headers; :meth:`urlopen` always gets a copy. Without ``fields``, other keyword
        arguments (``body`` included) go to :meth:`urlopen` unchanged.
        """
        request_headers = HTTPHeaderDict(self.headers if headers is None else headers)
        extra_kw: dict[str, typing.Any] = {"headers": request_headers}
        if fields:
            if "body" in urlopen_kw:
                raise TypeError(
                    "request got values for both 'fields' and 'body', can only specify one."
                )
            body: bytes | str | MultipartBody
            if encode_multipart:
                body, content_type = multipart_body(fields, boundary=multipart_boundary)
            else:
                body = urlencode(fields)  # type: ignore[arg-type]
                content_type = "application/x-www-form-urlencoded"
            request_headers["Content-Type"] = content_type
            if isinstance(body, MultipartBody):
                request_headers["Content-Length"] = str(len(body))
            extra_kw["body"] = body
        extra_kw.update(urlopen_kw)
        return self.urlopen(method, url, **extra_kw)


def _json_headers(headers: typing.Mapping[str, str]) -> typing.Mapping[str, str]:
    """Return ``headers``, or a copy with ``Content-Type: application/json`` if none is set."""
    if any(name.lower() == "content-type" for name in headers):
        return headers
    with_type = HTTPHeaderDict(headers)
    with_type["Content-Type"] = "application/json"
    return with_type
