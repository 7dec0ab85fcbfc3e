"""The asset registry's pages (engine/assets.py): search, an asset with its history, and
registering or changing one."""

from flask import Blueprint

bp = Blueprint("assets", __name__, url_prefix="/assets")

from . import routes  # noqa: E402,F401
