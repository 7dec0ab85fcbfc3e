"""Process content in the reader's language.

Process content (task names, form titles, labels, help, enum labels, instructions,
requester statuses, canned answers) is written in Turkish where it lives (the BPMN,
the JSON Schemas, the process packages). Its English lives beside the process, in
``processes/<key>/translations/en.po``: a gettext catalog whose ``msgid`` is the
Turkish text and whose ``msgstr`` is the English. Text shared by every process
(e.g. the requester's own fields) lives in ``processes/translations/en.po``.

:func:`text` is the one lookup every door uses.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent
DEFAULT_LOCALE = "tr"
LOCALES = ("tr", "en")


def catalog_path(process_key: str | None, locale: str) -> Path:
    """The catalog of one process (``None``: the shared one) for one language."""
    folder = HERE / process_key if process_key else HERE
    return folder / "translations" / f"{locale}.po"


def catalog_entries(process_key: str | None, locale: str) -> dict[str, str]:
    """Every entry of one catalog, read from disk now: Turkish source -> translation
    (``""`` where the translation is still missing). The translation check reads this."""
    path = catalog_path(process_key, locale)
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {message.id: message.string or "" for message in catalog
            if message.id and isinstance(message.id, str)}


@cache
def _catalog(process_key: str | None, locale: str) -> dict[str, str]:
    return {source: translated for source, translated in catalog_entries(process_key, locale).items() if translated}


def text(process_key: str | None, source: str, locale: str | None) -> str:
    """``source`` (Turkish process content) in ``locale``: the process's catalog first,
    then the shared one; the Turkish itself when neither has it."""
    if not source or not locale or locale == DEFAULT_LOCALE:
        return source
    for key in (process_key, None) if process_key else (None,):
        found = _catalog(key, locale).get(source)
        if found:
            return found
    return source
