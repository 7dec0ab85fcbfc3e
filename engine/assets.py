"""The asset registry: every item under its taşınır/demirbaş number (Taşınır Mal
Yönetmeliği; the unit's taşınır kayıt yetkilisi keeps the register), where it stands and
what happened to it.

Every change (:func:`register`, :func:`update`) writes one :class:`AssetChange` row (who,
when, the request whose step made it, the changed fields before and after, a note) and
one audit event in the same transaction: ``asset.registered`` / ``asset.updated`` on the
chain of the request that made the change, or on the ``system`` chain when a person
changed it on the registry's pages. An asset is never deleted: it is disposed
(``disposed``, after which it cannot change again).

Form fields holding an inventory number (UI schema ``"ui:widget": "asset"``, optionally
``"ui:options": {"kinds": [...]}``) are checked on every door by :func:`form_problems`
(called by :func:`engine.runtime.start_instance` and :func:`engine.tasks.complete_task`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import audit, textinput
from .errors import ConflictError, NotFoundError, Problem, ValidationError
from .models import ASSET_KINDS, ASSET_STATUSES, Asset, AssetChange, utcnow

KINDS = ASSET_KINDS
STATUSES = ASSET_STATUSES
LOCATION_FIELDS = ("site", "room", "rack", "rack_unit")
# Text fields and their longest values (the columns' lengths).
TEXT_FIELDS = {"model": 200, "serial": 100, "site": 100, "room": 60, "rack": 40,
               "owner_unit": 100, "note": 1000}
FIELDS = ("inventory_no", "kind", "model", "serial", "site", "room", "rack", "rack_unit", "status",
          "owner_unit", "note")
INVENTORY_NO_MAX = 40
NOTE_MAX = 1000          # the note of a change
QUERY_MAX = 100          # a search's text
PER_PAGE_MAX = 100
RACK_UNIT_MAX = 60
# A number as the taşınır records write it: "255.01.02-2024-0017", "DM/2019/114".
_INVENTORY_NO = re.compile(r"^[0-9A-Z][0-9A-Z./-]*$")
# Which status may follow which; ``disposed`` is final.
TRANSITIONS = {
    "in_use": {"in_stock", "in_repair", "retired"},
    "in_stock": {"in_use", "in_repair", "retired"},
    "in_repair": {"in_use", "in_stock", "retired"},
    "retired": {"in_stock", "disposed"},
    "disposed": set(),
}
WIDGET = "asset"

# Problem codes (params in brackets), so the pages can word them in the reader's language.
UNKNOWN = "asset_unknown"          # the number names no asset (or a disposed one)
WRONG_KIND = "asset_kind"          # [kinds]
TRANSITION = "asset_transition"    # [from, to]
INVALID = "asset_invalid"          # a malformed inventory number
TAKEN = "asset_taken"              # the number is registered already
CHOICE = "enum"                    # not one of the kinds / statuses
MAX_LENGTH = "maxLength"           # [limit]
REQUIRED = "required"
TYPE = "type"
RANGE = "asset_rack_unit"          # [limit]
NO_RACK = "asset_no_rack"          # a rack unit without a rack
UNKNOWN_FIELD = "asset_field"


def normalize(inventory_no) -> str:
    """An inventory number as stored: trimmed, upper case (``i`` -> ``I``, not Turkish ``İ``)."""
    return str(inventory_no or "").strip().translate({ord("i"): "I", ord("ı"): "I"}).upper()


def find(session: Session, inventory_no) -> Asset | None:
    """The asset with this number (written in any case), or ``None``."""
    number = normalize(inventory_no)
    if not number or len(number) > INVENTORY_NO_MAX:
        return None
    return session.scalar(select(Asset).where(Asset.inventory_no == number))


def get(session: Session, inventory_no) -> Asset:
    """:func:`find`, or :raises NotFoundError: no asset has this number."""
    asset = find(session, inventory_no)
    if asset is None:
        raise NotFoundError(f"no asset {normalize(inventory_no)[:INVENTORY_NO_MAX]!r}")
    return asset


def as_dict(asset: Asset) -> dict:
    """The asset's fields (what the API and the operators give)."""
    return {name: getattr(asset, name) for name in FIELDS}


def _check_values(values: dict, found: list[Problem]) -> dict:
    """The clean values of the fields given (inventory number aside), problems into ``found``."""
    clean: dict = {}
    for name, value in values.items():
        if name == "inventory_no":
            continue
        if name not in FIELDS:
            found.append(Problem(str(name)[:textinput.NAME_MAX], "no such field", UNKNOWN_FIELD))
            continue
        if name == "kind":
            if value not in KINDS:
                found.append(Problem(name, "not one of the kinds", CHOICE, {"options": list(KINDS)}))
            else:
                clean[name] = value
        elif name == "status":
            if value not in STATUSES:
                found.append(Problem(name, "not one of the statuses", CHOICE, {"options": list(STATUSES)}))
            else:
                clean[name] = value
        elif name == "rack_unit":
            if value in (None, ""):
                clean[name] = None
                continue
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if isinstance(value, bool) or not isinstance(value, int):
                found.append(Problem(name, "expected a whole number", TYPE))
            elif not 1 <= value <= RACK_UNIT_MAX:
                found.append(Problem(name, f"a rack unit is between 1 and {RACK_UNIT_MAX}", RANGE,
                                     {"limit": RACK_UNIT_MAX}))
            else:
                clean[name] = value
        else:
            if value is None:
                value = ""
            if not isinstance(value, str):
                found.append(Problem(name, "expected text", TYPE))
                continue
            value = value.strip()
            limit = TEXT_FIELDS[name]
            problems = textinput.text_problems(value, name, max_length=limit)
            if problems:
                found.extend(problems)
            else:
                clean[name] = value
    return clean


def _record(session: Session, asset: Asset, action: str, before: dict, after: dict, *,
            actor: str | None, instance_id: int | None, note: str) -> AssetChange:
    change = AssetChange(asset_id=asset.id, at=utcnow(), actor=actor, instance_id=instance_id,
                         action=action, before=before, after=after, note=note)
    session.add(change)
    audit.record(session, f"asset.{'registered' if action == 'registered' else 'updated'}", actor=actor,
                 instance_id=instance_id, data={"inventory_no": asset.inventory_no, "action": action,
                                                "before": before, "after": after, "note": note})
    session.flush()
    return change


def _check_note(note, found: list[Problem]) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        found.append(Problem("change_note", "expected text", TYPE))
        return ""
    note = note.strip()
    found.extend(textinput.text_problems(note, "change_note", max_length=NOTE_MAX))
    return note


def register(session: Session, values: dict, *, actor: str | None, instance_id: int | None = None,
             note: str = "") -> Asset:
    """Put a new item in the register.

    :param values: ``inventory_no`` and ``kind`` (required), ``model``, ``serial``,
        ``site``, ``room``, ``rack``, ``rack_unit``, ``status`` (default ``in_stock``;
        not ``disposed``), ``owner_unit``, ``note``
    :param actor: the username, or ``None`` for the engine (a service task)
    :param instance_id: the request whose step registers it, if any
    :raises ValidationError: one problem per field
    """
    if not isinstance(values, dict):
        raise ValidationError("an asset must be a JSON object", [Problem("", "expected an object", TYPE)])
    found: list[Problem] = []
    number = normalize(values.get("inventory_no"))
    if not number:
        found.append(Problem("inventory_no", "this field is required", REQUIRED))
    elif len(number) > INVENTORY_NO_MAX:
        found.append(Problem("inventory_no", f"at most {INVENTORY_NO_MAX} characters", MAX_LENGTH,
                             {"limit": INVENTORY_NO_MAX}))
    elif not _INVENTORY_NO.match(number):
        found.append(Problem("inventory_no", "letters, digits, '.', '/' and '-' only", INVALID))
    elif find(session, number) is not None:
        found.append(Problem("inventory_no", "this inventory number is registered already", TAKEN))
    if values.get("kind") in (None, ""):
        found.append(Problem("kind", "this field is required", REQUIRED))
        values = {name: value for name, value in values.items() if name != "kind"}
    clean = _check_values(values, found)
    clean.setdefault("status", "in_stock")
    if clean.get("status") == "disposed":
        found.append(Problem("status", "a new asset cannot be disposed", TRANSITION,
                             {"from": None, "to": "disposed"}))
    if clean.get("rack_unit") is not None and not clean.get("rack"):
        found.append(Problem("rack_unit", "a rack unit needs a rack", NO_RACK))
    note = _check_note(note, found)
    if found:
        raise ValidationError("the asset is refused", found[:textinput.PROBLEMS_MAX])
    now = utcnow()
    asset = Asset(inventory_no=number, created_at=now, updated_at=now,
                  **{name: "" for name in TEXT_FIELDS}, rack_unit=None)
    for name, value in clean.items():
        setattr(asset, name, value)
    session.add(asset)
    session.flush()
    after = {name: value for name, value in as_dict(asset).items() if value not in ("", None)}
    _record(session, asset, "registered", {}, after, actor=actor, instance_id=instance_id, note=note)
    return asset


def update(session: Session, inventory_no, changes: dict, *, actor: str | None,
           instance_id: int | None = None, note: str = "") -> Asset:
    """Change an asset's fields: move it (``site``/``room``/``rack``/``rack_unit``), change
    its status (see :data:`TRANSITIONS`), correct what it is.

    Fields whose value does not change are left out of the record; a change of nothing
    with no note records nothing. The action recorded is ``status`` when the status
    changes, else ``moved`` when the location does, else ``updated`` (``noted`` for a
    note alone).

    :raises NotFoundError: no asset has this number
    :raises ConflictError: the asset is disposed
    :raises ValidationError: one problem per field (the inventory number cannot change)
    """
    asset = get(session, inventory_no)
    if asset.status == "disposed":
        raise ConflictError(f"asset {asset.inventory_no} is disposed and cannot change")
    if not isinstance(changes, dict):
        raise ValidationError("changes must be a JSON object", [Problem("", "expected an object", TYPE)])
    found: list[Problem] = []
    if "inventory_no" in changes and normalize(changes["inventory_no"]) != asset.inventory_no:
        found.append(Problem("inventory_no", "an inventory number cannot change", INVALID))
    if "kind" in changes and changes["kind"] in (None, ""):
        found.append(Problem("kind", "this field is required", REQUIRED))
        changes = {name: value for name, value in changes.items() if name != "kind"}
    clean = _check_values(changes, found)
    new_status = clean.get("status", asset.status)
    if new_status != asset.status and new_status not in TRANSITIONS[asset.status]:
        found.append(Problem("status", f"an asset {asset.status} cannot become {new_status}", TRANSITION,
                             {"from": asset.status, "to": new_status}))
    rack = clean.get("rack", asset.rack)
    if clean.get("rack_unit", asset.rack_unit) is not None and not rack:
        found.append(Problem("rack_unit", "a rack unit needs a rack", NO_RACK))
    note = _check_note(note, found)
    if found:
        raise ValidationError(f"the change of asset {asset.inventory_no} is refused",
                              found[:textinput.PROBLEMS_MAX])
    before, after = {}, {}
    for name, value in clean.items():
        if getattr(asset, name) != value:
            before[name], after[name] = getattr(asset, name), value
    if not after and not note:
        return asset
    action = ("status" if "status" in after else "moved" if set(after) & set(LOCATION_FIELDS)
              else "updated" if after else "noted")
    for name, value in after.items():
        setattr(asset, name, value)
    asset.updated_at = utcnow()
    _record(session, asset, action, before, after, actor=actor, instance_id=instance_id, note=note)
    return asset


def history(session: Session, asset: Asset) -> list[AssetChange]:
    """Every change of ``asset``, oldest first."""
    return list(session.scalars(select(AssetChange).where(AssetChange.asset_id == asset.id)
                                .order_by(AssetChange.id)))


@dataclass(frozen=True)
class AssetPage:
    items: list[Asset]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, q: str = "", *, kind: str | None = None, status: str | None = None,
           site: str | None = None, kinds: list[str] | None = None, include_disposed: bool = True,
           page: int = 1, per_page: int = 25) -> AssetPage:
    """Assets whose number, serial, model or location holds ``q`` (any case), filtered by
    kind(s), status and site, ordered by number; one page of them.

    :param kinds: several kinds (the form widget's allowed kinds); ``kind`` narrows further
    :param include_disposed: ``False`` leaves disposed assets out (what a form can pick)
    """
    q = (q or "").strip()[:QUERY_MAX]
    page = max(1, int(page or 1))
    per_page = min(PER_PAGE_MAX, max(1, int(per_page or 25)))
    query = select(Asset)
    if q:
        pattern = _like(q.lower())
        number = _like(normalize(q))
        query = query.where(or_(
            Asset.inventory_no.like(number, escape="\\"),
            *(func.lower(column).like(pattern, escape="\\")
              for column in (Asset.serial, Asset.model, Asset.site, Asset.room, Asset.rack, Asset.owner_unit)),
        ))
    if kind:
        query = query.where(Asset.kind == kind)
    if kinds:
        query = query.where(Asset.kind.in_(list(kinds)))
    if status:
        query = query.where(Asset.status == status)
    elif not include_disposed:
        query = query.where(Asset.status != "disposed")
    if site:
        query = query.where(Asset.site == site)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(Asset.inventory_no).limit(per_page)
                                 .offset((page - 1) * per_page)))
    return AssetPage(items, total, page, per_page)


def sites(session: Session) -> list[str]:
    """The sites assets stand at (for a filter's choices)."""
    return [s for s in session.scalars(select(Asset.site).distinct().order_by(Asset.site)) if s]


def widget_fields(ui_schema: dict | None) -> dict[str, list[str] | None]:
    """The top-level fields of a form that hold an inventory number, each with its allowed
    kinds (``None``: any)."""
    found: dict[str, list[str] | None] = {}
    for name, ui in (ui_schema or {}).items():
        if isinstance(ui, dict) and ui.get("ui:widget") == WIDGET:
            options = ui.get("ui:options") if isinstance(ui.get("ui:options"), dict) else {}
            kinds = options.get("kinds")
            found[name] = [k for k in kinds if k in KINDS] if isinstance(kinds, list) and kinds else None
    return found


def form_problems(session: Session, ui_schema: dict | None, data: dict) -> list[Problem]:
    """What is wrong with the inventory numbers a form's asset fields hold: each non-empty
    value must name a registered asset that is not disposed, of an allowed kind.

    An empty or missing value is the form schema's business (``required``).
    """
    if not isinstance(data, dict):
        return []
    found: list[Problem] = []
    for name, kinds in widget_fields(ui_schema).items():
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        asset = find(session, value)
        if asset is None or asset.status == "disposed":
            found.append(Problem(name, "this inventory number is not registered", UNKNOWN,
                                 {"value": value[:INVENTORY_NO_MAX]}))
        elif kinds is not None and asset.kind not in kinds:
            found.append(Problem(name, f"this asset is a {asset.kind}, not one of {', '.join(kinds)}",
                                 WRONG_KIND, {"kinds": kinds, "kind": asset.kind}))
    return found
