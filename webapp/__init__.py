"""The web edge of SEK: the Flask app (``create_app``), the ``sek`` CLI, configuration.

Importing this package imports no Flask, so CLI commands that do not serve start fast.
"""

from __future__ import annotations


def create_app(config: dict | None = None):
    """Build the Flask app from ``config`` (default: the environment, see ``webapp.config``)."""
    from .app import build_app

    return build_app(config)
