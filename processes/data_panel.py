"""What a request's data panel shows staff: the fields the process declares, by their titles.

A process declares its data through its forms: the start schema (with the requester's
fields) and its task schemas. A key with a ``title`` there is shown under that title, in
the reader's language (:func:`processes.i18n.text`); an option under its label
(``enumNames``, or ``oneOf`` ``const`` + ``title``); a date, a time or a duration as such,
for the page to format. A process package may declare more keys its scripts set
(``STAFF_DATA = {"key": "Başlık"}`` in ``processes/<key>/__init__.py``; ``"a.b"`` is key
``b`` of the object ``a``). Everything else
(``due_at``, ``lead_email``, ``previous_team``, a recategorization's record...) is the
process's own bookkeeping and never shown.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine import form_conditions

from . import PROCESS_PACKAGES
from .i18n import text

# shown elsewhere on the page: the request itself and (when it has one) the requester's contact card
SHOWN_WITH_THE_REQUEST = frozenset({"subject", "message"})
SHOWN_WITH_THE_CONTACT = frozenset({"requester", "requester_email", "unit", "phone", "national_id"})
SHOWN_ELSEWHERE = SHOWN_WITH_THE_REQUEST | SHOWN_WITH_THE_CONTACT


@dataclass(frozen=True)
class Row:
    """One line of the panel. ``kind`` says how ``value`` reads: ``text`` (a ``str``), ``long``
    (a text of several lines), ``list`` (``list[str]``), ``bool``, ``number``, ``date``
    (:class:`~datetime.date`), ``datetime`` (aware :class:`~datetime.datetime`) or ``duration``
    (:class:`~datetime.timedelta`)."""

    key: str
    label: str
    value: object
    kind: str


def _declared(process_key: str) -> dict[str, str]:
    name = process_key if process_key in PROCESS_PACKAGES else None
    if name is None:
        return {}
    try:
        module = importlib.import_module(f"processes.{name}")
    except ModuleNotFoundError:
        return {}
    return dict(getattr(module, "STAFF_DATA", {}))


def fields_of(process_key: str, schemas: Iterable[dict | None]) -> dict[str, dict]:
    """Every titled field the process declares: key -> its property schema (the first
    schema naming it wins; the start schema comes first)."""
    found: dict[str, dict] = {}
    for schema in schemas:
        if not isinstance(schema, dict):
            continue
        properties = {**form_conditions.branch_properties(schema), **(schema.get("properties") or {})}
        control = form_conditions.discriminator(schema.get("oneOf"))
        if isinstance(properties.get(control), dict) and form_conditions.options_of(properties[control]) is None:
            # a choice between oneOf branches: its options are the branches' titles
            options = form_conditions.choice_options(schema, control)
            properties[control] = {**properties[control], "oneOf": [{"const": v, "title": t} for v, t in options]}
        for key, prop in properties.items():
            if isinstance(prop, dict) and prop.get("title") and key not in found:
                found[key] = prop
    for key, title in _declared(process_key).items():
        found.setdefault(key, {"title": title})
    return found


def rows(process_key: str, schemas: Iterable[dict | None], data: dict, locale: str | None,
         *, skip: Iterable[str] = SHOWN_ELSEWHERE) -> list[Row]:
    """The panel of ``data``: one row per declared key that has a value, in declaration order."""
    skipped = set(skip)
    result = []
    for key, prop in fields_of(process_key, schemas).items():
        value = _lookup(data, key)
        if key in skipped or value in (None, "", [], {}):
            continue
        row = _row(process_key, key, prop, value, locale)
        if row is not None:
            result.append(row)
    return result


def _lookup(data: dict, key: str):
    value = data
    for part in key.split(".") if key not in data else (key,):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _labels(process_key: str, prop: dict, locale: str | None) -> dict:
    pairs = []
    if isinstance(prop.get("enum"), list):
        names = prop.get("enumNames") or []
        # an enum of texts without names: the values are their own labels (translated like the form's)
        pairs = [(v, names[i] if i < len(names) else v if isinstance(v, str) and not names else None)
                 for i, v in enumerate(prop["enum"])]
    for key in ("oneOf", "anyOf"):
        for option in prop.get(key) or []:
            if isinstance(option, dict) and "const" in option:
                pairs.append((option["const"], option.get("title")))
    return {_hashable(v): text(process_key, str(t), locale) for v, t in pairs if t}


def _hashable(value):
    return (type(value) is bool, value) if isinstance(value, str | int | float | bool) else None


def _row(process_key: str, key: str, prop: dict, value, locale: str | None) -> Row | None:
    label = text(process_key, str(prop["title"]), locale)
    labels = _labels(process_key, prop, locale)
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    if isinstance(value, list):
        item_labels = _labels(process_key, items, locale)
        shown = [item_labels.get(_hashable(v)) or _plain(v) for v in value]
        return Row(key, label, shown, "list")
    if _hashable(value) in labels:
        return Row(key, label, labels[_hashable(value)], "text")
    if isinstance(value, bool):
        return Row(key, label, value, "bool")
    if isinstance(value, int | float):
        return Row(key, label, value, "number")
    if isinstance(value, str):
        fmt = prop.get("format")
        parsed = _parsed(fmt, value)
        if parsed is not None:
            return Row(key, label, parsed, fmt.replace("date-time", "datetime"))
        return Row(key, label, value, "long" if "\n" in value or len(value) > 120 else "text")
    return None   # a structure without a declared shape is the process's own


def _plain(value) -> str:
    return value if isinstance(value, str) else str(value)


_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _parsed(fmt, value: str):
    try:
        if fmt == "date":
            return date.fromisoformat(value[:10])
        if fmt == "date-time":
            return datetime.fromisoformat(value)   # naive: a local time as typed
        if fmt == "duration":
            match = _DURATION.match(value)
            if match and value not in ("P", "PT"):
                weeks, days, hours, minutes, seconds = (float(g) if g else 0 for g in match.groups())
                return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except ValueError:
        return None
    return None
