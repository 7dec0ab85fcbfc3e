"""Service operators of the asset registry (contract C5 of issue 14).

The rules (fields, limits, status transitions, the history and the audit event of each
change) live in :mod:`engine.assets`; these operators only let a service task use them,
recording the change under the calling request (its instance id) with the engine as the
actor. A refused asset or change raises (the job fails, is retried and at the end puts
the request in error, as every failing service task does): a process that registers
what a person typed checks it in the form first (``"ui:widget": "asset"`` for a number
that must exist).
"""

from __future__ import annotations

from engine import assets
from engine.jobs import ServiceContext


def asset_register(ctx: ServiceContext, asset: dict) -> dict:
    """Service operator ``asset_register``: put ``asset`` (a dict of the registry's fields,
    ``inventory_no`` and ``kind`` required) in the register.

    :returns: ``{"inventory_no": <the number as stored>}``
    """
    registered = assets.register(ctx.session, asset, actor=None, instance_id=ctx.instance_id)
    return {"inventory_no": registered.inventory_no}


def asset_update(ctx: ServiceContext, inventory_no: str, changes: dict, note: str = "") -> dict:
    """Service operator ``asset_update``: change the asset ``inventory_no`` (move it, change
    its status, correct its fields) with ``note`` saying why.

    :returns: ``{"inventory_no": ..., "status": ..., "changed": [field, ...]}``
    """
    before = assets.as_dict(assets.get(ctx.session, inventory_no))
    asset = assets.update(ctx.session, inventory_no, changes, actor=None, instance_id=ctx.instance_id,
                          note=note or "")
    after = assets.as_dict(asset)
    return {"inventory_no": asset.inventory_no, "status": asset.status,
            "changed": sorted(name for name in after if after[name] != before[name])}


OPERATORS = {"asset_register": asset_register, "asset_update": asset_update}
