"""The setup forms' rules: dates on the right side of today, and the installed items'
inventory numbers one a line, each once (``taşınır no`` or ``taşınır no; seri no``)."""

from __future__ import annotations

import re
from datetime import datetime

from engine.errors import Problem

from ..rules import date_not_ahead, date_not_past, problem, read_date, today

KEY = "infrastructure_setup"
# A taşınır (inventory) number, then optionally ";" and a serial number.
ITEM = re.compile(r"^\s*(?P<inventory_no>[^;\s][^;]*?)\s*(?:;\s*(?P<serial>[^;]*?)\s*)?$")
# An inventory number as the asset registry takes it (engine/assets.py): letters, digits,
# ".", "/" and "-", at most 40 characters; a serial number at most 100.
INVENTORY_NO = re.compile(r"^[0-9A-Z][0-9A-Z./-]{0,39}$")
SERIAL_MAX = 100


def _registry_number(number: str) -> str:
    return number.strip().translate({ord("i"): "I", ord("ı"): "I"}).upper()


def parse_items(lines) -> list[dict]:
    """The installed items of the installation form: ``{"inventory_no", "serial"}`` each
    (lines that do not read as one are left out; :func:`check_items` refuses them first)."""
    found = []
    for line in lines or []:
        match = ITEM.match(str(line)) if isinstance(line, str) else None
        if match and match.group("inventory_no"):
            found.append({"inventory_no": match.group("inventory_no"), "serial": match.group("serial") or ""})
    return found


check_desired_date = date_not_past(KEY, "desired_date", "Bu tarih geçmiş bir gün olamaz.")
check_survey_date = date_not_ahead(KEY, "survey_date", "Keşif tarihi ileride olamaz: keşif yapıldıktan sonra yazılır.")


def check_installation(data: dict, now: datetime) -> list[Problem]:
    found = []
    day = read_date(data.get("installed_on"))
    if day is not None and day > today(now):
        found.append(problem(KEY, "installed_on", "Kurulumun bittiği gün ileride olamaz."))
    lines = [line for line in data.get("asset_items") or [] if isinstance(line, str)]
    items = parse_items(lines)
    malformed = [item["inventory_no"] for item in items
                 if not INVENTORY_NO.match(_registry_number(item["inventory_no"])) or len(item["serial"]) > SERIAL_MAX]
    if len(items) != len(lines) or malformed:
        found.append(problem(KEY, "asset_items", "Her satıra bir taşınır numarası yazın (harf, rakam, nokta, eğik "
                                                 "çizgi ve tire; en çok 40 karakter), seri numarası varsa noktalı "
                                                 "virgülden sonra (ör. 253.03.02.01-26-14; FOC1234X0AB)."))
    else:
        numbers = [_registry_number(item["inventory_no"]) for item in items]
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        if twice:
            found.append(problem(KEY, "asset_items", "Aynı taşınır numarası birden çok satırda: %(numbers)s.",
                                 numbers=", ".join(twice)))
    return found


RULES = {"start": [check_desired_date], "survey": [check_survey_date], "install": [check_installation]}
