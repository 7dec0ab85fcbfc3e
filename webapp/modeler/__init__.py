"""The modeler: process owners edit a process's BPMN and forms in the browser, validate and deploy."""

from flask import Blueprint

bp = Blueprint("modeler", __name__, url_prefix="/modeler")

from . import routes  # noqa: E402,F401
