"""State changes must come from SEK's own pages: the ``Origin`` check beside the CSRF token.

A state-changing request that the CSRF token guards (every form, and the API when
called with the browser session) must name one of this site's origins in its
``Origin`` header, which browsers send on cross-site POSTs: the scheme, host and port
the request was made to (what the proxy reports, when ``SEK_PROXY_HOPS`` trusts it)
or those of ``SEK_BASE_URL``. ``Origin: null`` (a sandboxed page, a privacy redirect)
is foreign too. Without ``Origin``, a ``Referer`` is judged the same way (SEK's pages
send it to themselves: ``Referrer-Policy: same-origin``). With neither header the
client is not a current browser on another site's page (curl, a script), and the
token alone decides, as Flask-WTF does on plain HTTP; over HTTPS Flask-WTF's strict
mode still asks for a same-site ``Referer``. API calls with a Bearer token are not
checked (:func:`webapp.app._protect`): no browser sends a token by itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of a URL or an ``Origin`` value; ``None`` if it names none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def own_origins() -> set[tuple[str, str, int | None]]:
    """The origins SEK's pages are served from: this request's, and ``SEK_BASE_URL``'s."""
    origins = {_origin(request.host_url), _origin(current_app.config.get("SEK_BASE_URL") or "")}
    return origins - {None}


def check_same_origin() -> None:
    """Refuse (403, with a plain message) a request sent from another site's page.

    :raises Forbidden: ``Origin`` (or, without it, ``Referer``) names a foreign site
    """
    sent = request.headers.get("Origin")
    if sent is None:
        sent = request.headers.get("Referer")
        if not sent:
            return
    if _origin(sent) in own_origins():
        return
    current_app.logger.warning("refused a cross-site %s %s from %r (this site: %s; SEK_BASE_URL: %s)",
                               request.method, request.path, sent[:200], request.host_url,
                               current_app.config.get("SEK_BASE_URL"))
    raise Forbidden(_("This form was sent from a page of another site, so it was refused. Open SEK at its own "
                      "address and send the form from there."))
