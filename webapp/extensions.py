"""Flask extensions, created once at import (unbound) and bound in ``build_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from engine.db import make_engine
from engine.models import Base

from .config import db_settings


class _Database(SQLAlchemy):
    """Flask-SQLAlchemy on the engine's ``Base``, with engines made by ``engine.db``.

    The engine's own factory gives SQLite its WAL mode, foreign keys and write-locking
    transactions, maps ``postgresql://`` to psycopg 3 and sets the ``SEK_DB_*`` session
    limits, exactly as the CLI and the worker get them.
    """

    def _make_engine(self, bind_key, options, app):
        options = dict(options)
        url = options.pop("url")
        options.pop("connect_args", None)
        if not isinstance(url, str):
            url = url.render_as_string(hide_password=False)
        return make_engine(url, db_settings(app.config), **options)


db = _Database(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
