"""The registry's kinds, statuses, actions and problems in the reader's language (shared by
the pages, the form widget's errors and the API's labels)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import assets
from engine.errors import Problem

KIND_TITLES = {
    "network_device": _l("Network device"), "server": _l("Server"), "ups": _l("UPS"),
    "generator": _l("Generator"), "cooling": _l("Cooling unit"), "computer": _l("Computer"),
    "lab_seat": _l("Lab seat"), "printer": _l("Printer"), "cabling": _l("Cabling"), "other": _l("Other"),
}
STATUS_TITLES = {
    "in_use": _l("In use"), "in_stock": _l("In stock"), "in_repair": _l("In repair"),
    "retired": _l("Retired"), "disposed": _l("Disposed"),
}
ACTION_TITLES = {
    "registered": _l("Registered"), "updated": _l("Changed"), "moved": _l("Moved"),
    "status": _l("Status changed"), "noted": _l("Note added"),
}
FIELD_TITLES = {
    "inventory_no": _l("Inventory number"), "kind": _l("Kind"), "model": _l("Make and model"),
    "serial": _l("Serial number"), "site": _l("Site / building"), "room": _l("Room"), "rack": _l("Rack"),
    "rack_unit": _l("Rack unit (U)"), "status": _l("Status"), "owner_unit": _l("Responsible unit"),
    "note": _l("Note"),
}


def kind_title(kind: str | None) -> str:
    return str(KIND_TITLES.get(kind or "", kind or ""))


def status_title(status: str | None) -> str:
    return str(STATUS_TITLES.get(status or "", status or ""))


def value_text(name: str, value) -> str:
    """A field's value as a person reads it."""
    if value in (None, ""):
        return "–"
    if name == "kind":
        return kind_title(value)
    if name == "status":
        return status_title(value)
    return str(value)


def problem_text(problem: Problem) -> str | None:
    """A registry problem in the reader's language; ``None`` for one that is not the registry's."""
    params = problem.params or {}
    if problem.code == assets.UNKNOWN:
        return _("This inventory number is not registered.")
    if problem.code == assets.WRONG_KIND:
        return _("This asset is of the kind %(kind)s; this field takes only: %(kinds)s.",
                 kind=kind_title(params.get("kind")), kinds=", ".join(kind_title(k) for k in params.get("kinds") or []))
    if problem.code == assets.TAKEN:
        return _("This inventory number is registered already.")
    if problem.code == assets.INVALID:
        if problem.location == "inventory_no" and "cannot change" in problem.message:
            return _("An inventory number cannot change.")
        return _("Use letters, digits, '.', '/' and '-' only.")
    if problem.code == assets.TRANSITION:
        if params.get("from") is None:
            return _("A new asset cannot be registered as disposed.")
        return _("An asset that is %(from)s cannot become %(to)s.", **{
            "from": status_title(params.get("from")).lower(), "to": status_title(params.get("to")).lower()})
    if problem.code == assets.RANGE:
        return _("Enter a rack unit from 1 to %(n)s.", n=params.get("limit"))
    if problem.code == assets.NO_RACK:
        return _("A rack unit needs a rack.")
    if problem.code == assets.UNKNOWN_FIELD:
        return _("The registry has no such field.")
    return None
