"""The asset registry's JSON API (engine/assets.py): staff search it (the form field's
search box does, static/asset_field.js) and read one asset with its history."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from engine import assets

from ..asset_words import kind_title, status_title
from ..extensions import db
from . import bp
from .openapi import operation
from .schemas import QUERY_TEXT, _doc

_KIND = "(?:" + "|".join(assets.KINDS) + ")"
# What the document promises for ``kind``: known kinds, comma-separated (or nothing).
KINDS_PATTERN = f"^(?:{_KIND}(?:,{_KIND})*)?$"


class AssetQuerySchema(Schema):
    """The query string of ``GET /assets`` (every filter optional)."""

    q = fields.String(load_default="", validate=validate.Length(max=assets.QUERY_MAX),
                      metadata=_doc("part of an inventory number, serial number, model or place (any case)",
                                    pattern=QUERY_TEXT))
    kind = fields.String(load_default="", validate=validate.Length(max=200),
                         metadata=_doc("only these kinds, comma-separated: " + ", ".join(assets.KINDS),
                                       pattern=KINDS_PATTERN))
    status = fields.String(validate=validate.OneOf(assets.STATUSES), metadata=_doc("only this status"))
    site = fields.String(validate=validate.Length(max=100), metadata=_doc("only this site / building",
                                                                          pattern=QUERY_TEXT))
    pickable = fields.Boolean(load_default=False,
                              metadata=_doc("only assets a form may name (not disposed)"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=500))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=assets.PER_PAGE_MAX))

    @validates("kind")
    def _kinds(self, value, **_kwargs):
        wrong = [k for k in value.split(",") if k.strip() and k.strip() not in assets.KINDS]
        if wrong:
            raise ValidationError(f"not a kind: {', '.join(wrong)[:100]}")


class AssetSchema(Schema):
    inventory_no = fields.String(required=True, metadata=_doc("the taşınır/demirbaş number"))
    kind = fields.String(required=True, validate=validate.OneOf(assets.KINDS))
    kind_title = fields.String(metadata=_doc("the kind in the caller's language"))
    model = fields.String()
    serial = fields.String()
    site = fields.String()
    room = fields.String()
    rack = fields.String()
    rack_unit = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(assets.STATUSES))
    status_title = fields.String(metadata=_doc("the status in the caller's language"))
    owner_unit = fields.String()
    note = fields.String()


class AssetListSchema(Schema):
    """A page of ``GET /assets``, by inventory number."""

    results = fields.List(fields.Nested(AssetSchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class AssetChangeSchema(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True, metadata=_doc("the username; null: the engine (a service task)"))
    instance_id = fields.Integer(allow_none=True, metadata=_doc("the request whose step made the change"))
    action = fields.String(required=True, metadata=_doc("registered, updated, moved, status or noted"))
    before = fields.Dict(metadata=_doc("the changed fields' values before"))
    after = fields.Dict(metadata=_doc("the changed fields' values after"))
    note = fields.String()


class AssetDetailSchema(AssetSchema):
    history = fields.List(fields.Nested(AssetChangeSchema), metadata=_doc("every change, oldest first"))


def _asset_json(asset) -> dict:
    return {**assets.as_dict(asset), "kind_title": kind_title(asset.kind), "status_title": status_title(asset.status)}


@bp.get("/assets")
@login_required
@operation("Search the asset registry (staff)", tags=["assets"], query=AssetQuerySchema,
           responses={200: ("a page of assets", AssetListSchema)}, errors=(422,))
def asset_list():
    query = AssetQuerySchema().load(request.args, unknown=EXCLUDE)
    kinds = [k.strip() for k in query["kind"].split(",") if k.strip()]
    page = assets.search(db.session, query["q"], kinds=kinds or None, status=query.get("status"),
                         site=query.get("site"), include_disposed=not query["pickable"],
                         page=query["page"], per_page=query["per_page"])
    return jsonify(AssetListSchema().dump({"results": [_asset_json(a) for a in page.items], "page": page.page,
                                           "per_page": page.per_page, "total": page.total}))


@bp.get("/assets/<path:inventory_no>")
@login_required
@operation("One asset with its history (staff)", tags=["assets"],
           responses={200: ("the asset", AssetDetailSchema)}, errors=(404,))
def asset_detail(inventory_no: str):
    asset = assets.get(db.session, inventory_no)
    history = [{"at": c.at, "actor": c.actor, "instance_id": c.instance_id, "action": c.action,
                "before": c.before, "after": c.after, "note": c.note} for c in assets.history(db.session, asset)]
    return jsonify(AssetDetailSchema().dump({**_asset_json(asset), "history": history}))
