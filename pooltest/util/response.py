"""Small checks on response objects: is a body file closed, was this a HEAD, were headers sound.

They accept pooltest's own objects (:class:`~pooltest._body.BodyReader`,
:class:`~pooltest._collections.HTTPHeaderDict`) as well as the ``http.client`` ones urllib3 code
passes in.
"""

from __future__ import annotations

import http.client
from email.errors import MultipartInvariantViolationDefect, StartBoundaryNotFoundDefect

from pooltest._collections import HTTPHeaderDict
from pooltest.exceptions import HeaderParsingError

__all__ = ["assert_header_parsing", "is_fp_closed", "is_response_to_head"]

# Defects http.client reports because it parses a header block as if a body followed it.
_IGNORED_DEFECTS = (StartBoundaryNotFoundDefect, MultipartInvariantViolationDefect)


def is_fp_closed(obj: object) -> bool:
    """Whether the file-like ``obj`` is closed.

    Asks ``isclosed()`` first (http.client responses and body readers, which also count a fully
    read body as closed), then ``closed``, then whether a wrapper's ``fp`` was dropped.
    Raises ``ValueError`` when ``obj`` offers none of these.
    """
    isclosed = getattr(obj, "isclosed", None)
    if isclosed is not None:
        return bool(isclosed())
    try:
        return bool(obj.closed)  # type: ignore[attr-defined]
    except AttributeError:
        pass
    try:
        return obj.fp is None  # type: ignore[attr-defined]
    except AttributeError:
        pass
    raise ValueError("Unable to determine whether fp is closed.")


def assert_header_parsing(headers: http.client.HTTPMessage | HTTPHeaderDict) -> None:
    """Raise :class:`~pooltest.exceptions.HeaderParsingError` if parsing ``headers`` went wrong.

    For an ``http.client.HTTPMessage`` this reports its parsing defects (except the two that
    header-only parsing always produces) and any text left over as a payload. pooltest's own
    parser rejects malformed heads outright, so an :class:`HTTPHeaderDict` always passes.
    Anything else raises ``TypeError``.
    """
    if isinstance(headers, HTTPHeaderDict):
        return
    if not isinstance(headers, http.client.HTTPMessage):
        raise TypeError(f"expected httplib.Message, got {type(headers)}.")
    unparsed_data = None
    if not headers.is_multipart():
        payload = headers.get_payload()
        if isinstance(payload, (bytes, str)):
            unparsed_data = payload
    defects = [d for d in headers.defects if not isinstance(d, _IGNORED_DEFECTS)]
    if defects or unparsed_data:
        raise HeaderParsingError(defects=defects, unparsed_data=unparsed_data)


def is_response_to_head(response: object) -> bool:
    """Whether ``response`` answers a HEAD request.

    Reads ``_method`` (``http.client.HTTPResponse``) or ``_request_method``; False when neither
    is set.
    """
    method = getattr(response, "_method", None) or getattr(response, "_request_method", None)
    return isinstance(method, str) and method.upper() == "HEAD"
