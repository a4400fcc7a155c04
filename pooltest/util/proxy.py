"""Proxy decisions: whether a request goes through a CONNECT tunnel or is forwarded."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from pooltest._base_connection import ProxyConfig
    from pooltest.util.url import Url

__all__ = ["connection_requires_http_tunnel"]


def connection_requires_http_tunnel(
    proxy_url: Url | None = None,
    proxy_config: ProxyConfig | None = None,
    destination_scheme: str | None = None,
) -> bool:
    """True if requests to ``destination_scheme`` must be tunnelled through the proxy (CONNECT).

    Without a proxy there is no tunnel. Plain-HTTP destinations are always forwarded (the proxy
    sees absolute-form requests). HTTPS destinations are tunnelled, except through an HTTPS
    proxy configured with ``use_forwarding_for_https``, which receives them forwarded.
    """
    if proxy_url is None or destination_scheme == "http":
        return False
    return not (
        proxy_url.scheme == "https"
        and proxy_config is not None
        and proxy_config.use_forwarding_for_https
    )
