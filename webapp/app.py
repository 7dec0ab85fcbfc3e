"""The app factory: configuration, extensions, blueprints.

The inbox, portal and other areas arrive with their issues; until then the app
serves a placeholder page and a health check.
"""

from __future__ import annotations

from flask import Flask

from .config import load_config, secret_key
from .extensions import db


def build_app(config: dict | None = None) -> Flask:
    config = dict(config or load_config())
    app = Flask(__name__)
    app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    app.config["SECRET_KEY"] = secret_key(config)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    db.init_app(app)

    from .home import bp as home_bp

    app.register_blueprint(home_bp)
    return app
