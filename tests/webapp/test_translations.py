"""The UI speaks Turkish by default: every string in the code has a Turkish translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEBAPP = ROOT / "webapp"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEBAPP), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str):
    with open(WEBAPP / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


def test_every_ui_string_has_a_turkish_translation():
    source = _source_messages()
    assert "Inbox" in source and len(source) > 100   # the extraction itself works
    catalog = _catalog("tr")
    missing = sorted(m for m in source if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"untranslated (run `make messages`, then translate): {missing}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy translations to check: {fuzzy}"


def test_placeholders_survive_translation():
    for message in _catalog("tr"):
        if not message.id or not message.string:
            continue
        for name in ("%(user)s", "%(n)s", "%(name)s", "%(reason)s", "%(minutes)d", "%(page)d", "%(when)s"):
            assert (name in message.id) == (name in message.string), (message.id, message.string)


def test_compiled_catalog_is_current():
    """`make translations` compiled the catalog the app loads (a stale .mo would show English)."""
    compiled = WEBAPP / "translations" / "tr" / "LC_MESSAGES" / "messages.mo"
    assert compiled.exists(), "run `make translations`"
    with open(compiled, "rb") as handle:
        mo = read_mo(handle)
    catalog = _catalog("tr")
    assert {m.id: m.string for m in mo if m.id} == {m.id: m.string for m in catalog if m.id}
