"""The app factory: configuration, extensions, blueprints, error pages, security headers."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

import processes
from engine import textinput
from engine.errors import ValidationError
from engine.users import LOCALES

from .config import apply_engine_settings, load_config, max_content_length, secret_key, truthy
from .converters import IdConverter
from .db import mark_page_views_read_only
from .extensions import babel, csrf, db, login_manager
from .same_origin import check_same_origin


def build_app(config: dict | None = None) -> Flask:
    config = dict(config or load_config())
    apply_engine_settings(config)
    processes.install()
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.update(config)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=config["DATABASE_URL"],
        SECRET_KEY=secret_key(config),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=truthy(config.get("SEK_SECURE_COOKIES")),
        SESSION_COOKIE_NAME="sek_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=float(config.get("SEK_SESSION_HOURS") or 12)),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=truthy(config.get("SEK_SECURE_COOKIES")),
        WTF_CSRF_CHECK_DEFAULT=False,   # checked in _protect, which knows about API tokens
        WTF_CSRF_TIME_LIMIT=None,       # the token lives as long as the signed session
        BABEL_DEFAULT_LOCALE=config.get("SEK_DEFAULT_LOCALE") or "tr",
        BABEL_DEFAULT_TIMEZONE=config.get("SEK_TIMEZONE") or "Europe/Istanbul",
        MAX_CONTENT_LENGTH=max_content_length(config),
    )
    hops = int(config.get("SEK_PROXY_HOPS") or 0)
    if hops:
        # Behind a reverse proxy every request comes from the proxy: trust exactly ``hops``
        # X-Forwarded-* entries, so per-address limits count the real client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.json.ensure_ascii = False   # Turkish text stays readable in JSON answers
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)

    from . import auth, templating
    from .account import bp as account_bp
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .assets import bp as assets_bp
    from .audit import bp as audit_bp
    from .canned import bp as canned_bp
    from .catalog import bp as catalog_bp
    from .errors import register_error_handlers
    from .home import bp as home_bp
    from .inbox import bp as inbox_bp
    from .instances import bp as instances_bp
    from .instances.attachments import bp as attachments_bp
    from .modeler import bp as modeler_bp
    from .personal_data import bp as personal_data_bp
    from .portal import bp as portal_bp
    from .reply import bp as reply_bp
    from .reports import bp as reports_bp
    from .search import bp as search_bp
    from .versions import bp as versions_bp

    auth.init_login(login_manager)
    templating.init_templating(app)
    register_error_handlers(app)
    app.before_request(mark_page_views_read_only)
    app.before_request(_protect)
    app.before_request(_check_query_text)
    app.after_request(_security_headers)
    for blueprint in (home_bp, auth.bp, inbox_bp, instances_bp, catalog_bp, admin_bp, api_bp, reply_bp,
                      portal_bp, canned_bp, attachments_bp, account_bp, audit_bp, personal_data_bp, versions_bp,
                      modeler_bp, reports_bp, search_bp, assets_bp):
        app.register_blueprint(blueprint)
    return app


def _select_locale() -> str:
    if request.path.startswith("/api/") and request.args.get("lang") in LOCALES:
        return request.args["lang"]   # an API caller asks for one request's language
    user = current_user
    if getattr(user, "is_authenticated", False) and user.locale in LOCALES:
        return user.locale
    if session.get("lang") in LOCALES:
        return session["lang"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LOCALES) or default
    return default


def _protect() -> None:
    """CSRF on every state-changing request: the request must come from one of SEK's own
    pages (:mod:`webapp.same_origin`) and carry the form's token; except API calls carrying
    a Bearer token (a token is not sent by the browser on its own, so it cannot be forged
    across sites)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.path.startswith("/api/v1/hooks/"):
        return  # a webhook: its HMAC signature is its authentication (webapp/api/hooks.py), no session is used
    if request.path.startswith("/api/") and (
            request.headers.get("Authorization", "").startswith("Bearer ") or not current_user.is_authenticated):
        return  # a token call, or no one signed in: the API answers 401 without touching anything
    check_same_origin()
    csrf.protect()


def _check_query_text() -> None:
    """The engine's text rule holds for query strings as for bodies: no control characters,
    no broken Unicode, bounded sizes (a NUL in a search would reach PostgreSQL as a 500)."""
    found = [problem for name, values in request.args.lists()
             for text in (name, *values) for problem in textinput.text_problems(text, name)]
    if found:
        raise ValidationError("the query string was refused", found)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
    if request.path.startswith(("/inbox", "/tasks", "/instances", "/admin", "/api", "/takip", "/canned", "/search")):
        headers.setdefault("Cache-Control", "no-store")
    return response
