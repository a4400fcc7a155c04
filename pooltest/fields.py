"""Form fields for ``multipart/form-data`` bodies: :class:`RequestField` and parameter quoting.

A :class:`RequestField` is one part of a multipart body: a name, the data, an optional filename
and the part's own headers. :meth:`RequestField.render_headers` turns those headers into the text
block that precedes the data (``Content-Disposition`` first, then ``Content-Type``, then
``Content-Location``, then any other header, each only when its value is non-empty, and a blank
line to close the block).

The hard part is quoting the ``name`` and ``filename`` parameters of ``Content-Disposition``.
Following the WHATWG HTML standard (what browsers and curl send),
:func:`format_multipart_header_param` wraps the value in double quotes and percent-encodes only
the three characters that would break out of it: LF as ``%0A``, CR as ``%0D`` and ``"`` as
``%22``. Everything else, non-ASCII included, is written as-is and the whole header block is
later encoded as UTF-8. The older RFC 2231 strategy (``name*=utf-8''...``) is kept only behind a
deprecated function, because servers do not accept it in form data.

Field data may be ``str``, ``bytes`` or, in pooltest, a binary file object:
:mod:`pooltest.filepost` streams such files instead of reading them into memory.
"""

from __future__ import annotations

import email.utils
import mimetypes
import typing
import warnings

__all__ = [
    "RequestField",
    "format_header_param",
    "format_header_param_html5",
    "format_header_param_rfc2231",
    "format_multipart_header_param",
    "guess_content_type",
]

_TYPE_FIELD_VALUE = str | bytes
#: What a field may carry: text, bytes, or a binary file object streamed by pooltest.filepost.
_TYPE_FIELD_DATA = str | bytes | typing.IO[bytes]
_TYPE_FIELD_VALUE_TUPLE = (
    _TYPE_FIELD_DATA | tuple[str, _TYPE_FIELD_DATA] | tuple[str, _TYPE_FIELD_DATA, str]
)
_TYPE_HEADER_FORMATTER = typing.Callable[[str, _TYPE_FIELD_VALUE], str]

# WHATWG multipart quoting: only LF, CR and the double quote are percent-encoded.
_MULTIPART_ESCAPES = str.maketrans({"\n": "%0A", "\r": "%0D", '"': "%22"})
# Characters that force the RFC 2231 form in the deprecated formatter.
_RFC2231_SPECIALS = frozenset('"\\\r\n')
# Headers that render_headers() writes first, in this order.
_LEADING_HEADERS = ("Content-Disposition", "Content-Type", "Content-Location")


def guess_content_type(filename: str | None, default: str = "application/octet-stream") -> str:
    """Return the MIME type :mod:`mimetypes` guesses from ``filename``'s extension.

    ``default`` is returned when ``filename`` is empty or ``None`` or its type is unknown.
    """
    if filename:
        return mimetypes.guess_type(filename)[0] or default
    return default


def format_multipart_header_param(name: str, value: _TYPE_FIELD_VALUE) -> str:
    """Return ``name="value"`` quoted the way browsers quote multipart form-data parameters.

    ``value`` is ``str`` or UTF-8 encoded ``bytes`` (invalid UTF-8 raises UnicodeDecodeError).
    LF, CR and ``"`` become ``%0A``, ``%0D`` and ``%22``; no other character is changed.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return f'{name}="{value.translate(_MULTIPART_ESCAPES)}"'


def format_header_param_rfc2231(name: str, value: _TYPE_FIELD_VALUE) -> str:
    """Deprecated: quote a header parameter as RFC 2231 does (``name*=utf-8''...``).

    A plain ASCII ``name="value"`` is returned when the result is ASCII and ``value`` holds none
    of ``"``, backslash, CR and LF; otherwise the percent-encoded ``name*=`` form. Emits a
    FutureWarning: this form is not valid in multipart/form-data.
    """
    warnings.warn(
        "'format_header_param_rfc2231' is insecure, deprecated and will be "
        "removed in urllib3 v3.0. This is not valid for "
        "multipart/form-data header parameters.",
        FutureWarning,
        stacklevel=2,
    )
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if name.isascii() and value.isascii() and _RFC2231_SPECIALS.isdisjoint(value):
        return f'{name}="{value}"'
    return f"{name}*={email.utils.encode_rfc2231(value, 'utf-8')}"


def format_header_param_html5(name: str, value: _TYPE_FIELD_VALUE) -> str:
    """Deprecated alias of :func:`format_multipart_header_param`; emits a FutureWarning."""
    warnings.warn(
        "'format_header_param_html5' has been renamed to "
        "'format_multipart_header_param'. The old name will be "
        "removed in urllib3 v3.0.",
        FutureWarning,
        stacklevel=2,
    )
    return format_multipart_header_param(name, value)


def format_header_param(name: str, value: _TYPE_FIELD_VALUE) -> str:
    """Deprecated alias of :func:`format_multipart_header_param`; emits a FutureWarning."""
    warnings.warn(
        "'format_header_param' has been renamed to "
        "'format_multipart_header_param'. The old name will be "
        "removed in urllib3 v3.0.",
        FutureWarning,
        stacklevel=2,
    )
    return format_multipart_header_param(name, value)


class RequestField:
    """One part of a multipart body: ``name``, ``data``, optional ``filename`` and ``headers``.

    ``headers`` is copied into a plain dict; :meth:`make_multipart` fills in the standard part
    headers. ``header_formatter`` (deprecated, emits a FutureWarning) replaces
    :func:`format_multipart_header_param` for quoting ``name`` and ``filename``.
    """

    def __init__(
        self,
        name: str,
        data: _TYPE_FIELD_DATA,
        filename: str | None = None,
        headers: typing.Mapping[str, str] | None = None,
        header_formatter: _TYPE_HEADER_FORMATTER | None = None,
    ) -> None:
        self._name = name
        self._filename = filename
        self.data = data
        self.headers: dict[str, str | None] = dict(headers) if headers else {}
        if header_formatter is None:
            self.header_formatter: _TYPE_HEADER_FORMATTER = format_multipart_header_param
        else:
            warnings.warn(
                "The 'header_formatter' parameter is deprecated and "
                "will be removed in urllib3 v3.0.",
                FutureWarning,
                stacklevel=2,
            )
            self.header_formatter = header_formatter

    @classmethod
    def from_tuples(
        cls,
        fieldname: str,
        value: _TYPE_FIELD_VALUE_TUPLE,
        header_formatter: _TYPE_HEADER_FORMATTER | None = None,
    ) -> RequestField:
        """Build a multipart-ready field from the classic ``fields`` notation.

        ``value`` is either the data itself (no filename, no Content-Type), a
        ``(filename, data)`` pair (Content-Type guessed from the filename) or a
        ``(filename, data, content_type)`` triple. ``data`` may be a binary file object.
        """
        filename: str | None
        content_type: str | None
        if isinstance(value, tuple):
            if len(value) == 3:
                filename, data, content_type = value
            else:
                filename, data = value
                content_type = guess_content_type(filename)
        else:
            filename, data, content_type = None, value, None
        field = cls(fieldname, data, filename=filename, header_formatter=header_formatter)
        field.make_multipart(content_type=content_type)
        return field

    def _render_part(self, name: str, value: _TYPE_FIELD_VALUE) -> str:
        """Quote one header parameter; subclasses may override. Uses ``header_formatter``."""
        return self.header_formatter(name, value)

    def _render_parts(
        self,
        header_parts: (
            dict[str, _TYPE_FIELD_VALUE | None]
            | typing.Sequence[tuple[str, _TYPE_FIELD_VALUE | None]]
        ),
    ) -> str:
        """Join the quoted ``(name, value)`` parameters with ``"; "``, skipping ``None`` values.

        ``header_parts`` is a dict or a sequence of pairs; its order is kept.
        """
        pairs = header_parts.items() if isinstance(header_parts, dict) else header_parts
        return "; ".join(
            [self._render_part(name, value) for name, value in pairs if value is not None]
        )

    def render_headers(self) -> str:
        """Return this part's header block, ending with the blank line (``"\\r\\n\\r\\n"``).

        The three standard headers come first in a fixed order, then the others in insertion
        order; headers whose value is empty or ``None`` are left out.
        """
        headers = self.headers
        lines = [
            f"{key}: {headers[key]}\r\n" for key in _LEADING_HEADERS if headers.get(key, False)
        ]
        lines.extend(
            f"{key}: {value}\r\n"
            for key, value in headers.items()
            if value and key not in _LEADING_HEADERS
        )
        lines.append("\r\n")
        return "".join(lines)

    def make_multipart(
        self,
        content_disposition: str | None = None,
        content_type: str | None = None,
        content_location: str | None = None,
    ) -> None:
        """Set the Content-Disposition, Content-Type and Content-Location headers of this part.

        The disposition (``"form-data"`` by default) gets the quoted ``name`` and ``filename``
        parameters appended. ``None`` values are stored too, and so left out when rendering.
        """
        params = self._render_parts((("name", self._name), ("filename", self._filename)))
        self.headers["Content-Disposition"] = f"{content_disposition or 'form-data'}; {params}"
        self.headers["Content-Type"] = content_type
        self.headers["Content-Location"] = content_location
