"""Placeholder home page and health check until the inbox lands."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from engine.models import HumanTask, ProcessDefinition, ProcessInstance

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    from .extensions import db

    counts = {
        "definitions": db.session.scalar(select(func.count()).select_from(ProcessDefinition)),
        "instances": db.session.scalar(select(func.count()).select_from(ProcessInstance)),
        "tasks": db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready")),
    }
    return render_template("home/index.html", counts=counts)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
