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


_SCHEMA_TEXTS = ("title", "description")
_UI_TEXTS = ("ui:title", "ui:help", "ui:placeholder", "ui:description")


def translate_schema(process_key: str | None, schema: dict | None, locale: str | None) -> dict | None:
    """A copy of a JSON Schema form for display in ``locale``: titles, descriptions and
    enum labels translated, anywhere in it (conditional sections included).

    Values never change, so the copy renders the same inputs and the original still
    validates what is posted. An ``enum`` of strings without ``enumNames`` gets the
    translated values as its ``enumNames`` (the values were its labels).
    """
    if not schema or not locale or locale == DEFAULT_LOCALE:
        return schema
    return _schema(process_key, schema, locale)


_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
_SCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "if", "then", "else", "not", "contains", "additionalProperties")


def _schema(key, node, locale):
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for name in _SCHEMA_TEXTS:
        if isinstance(node.get(name), str):
            out[name] = text(key, node[name].strip(), locale)
    if isinstance(node.get("enumNames"), list):
        out["enumNames"] = [text(key, str(label).strip(), locale) for label in node["enumNames"]]
    elif isinstance(node.get("enum"), list) and all(isinstance(v, str) for v in node["enum"]):
        labels = [text(key, v.strip(), locale) for v in node["enum"]]
        if labels != node["enum"]:
            out["enumNames"] = labels
    for name in _SCHEMA_MAPS:
        if isinstance(node.get(name), dict):
            out[name] = {field: _schema(key, sub, locale) for field, sub in node[name].items()}
    for name in _SCHEMA_LISTS:
        if isinstance(node.get(name), list):
            out[name] = [_schema(key, sub, locale) for sub in node[name]]
    for name in _SCHEMA_ONE:
        if isinstance(node.get(name), dict):
            out[name] = _schema(key, node[name], locale)
    return out


def translate_ui(process_key: str | None, ui: dict | None, locale: str | None) -> dict | None:
    """A copy of a UI schema for display in ``locale``: ``ui:title``, ``ui:help``,
    ``ui:placeholder``, ``ui:description``, ``ui:enumNames`` and button texts translated."""
    if not ui or not locale or locale == DEFAULT_LOCALE:
        return ui
    return _ui(process_key, ui, locale)


def _ui(key, node, locale):
    if not isinstance(node, dict):
        return node
    out = {}
    for name, value in node.items():
        if name in _UI_TEXTS and isinstance(value, str):
            out[name] = text(key, value.strip(), locale)
        elif name == "ui:enumNames" and isinstance(value, list):
            out[name] = [text(key, str(label).strip(), locale) for label in value]
        elif name in ("ui:submitButtonOptions", "ui:options") and isinstance(value, dict):
            out[name] = {k: text(key, v.strip(), locale) if k in ("submitText", "addButtonText", "label")
                         and isinstance(v, str) else v for k, v in value.items()}
        elif name == "ui:order":
            out[name] = value
        else:
            out[name] = _ui(key, value, locale)
    return out


def language(locale: object) -> str:
    """``tr`` or ``en`` for any locale value (a Babel ``Locale``, ``en_US``, ``None``)."""
    lang = str(locale or "").strip().lower()[:2]
    return lang if lang in LOCALES else DEFAULT_LOCALE


_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def translate_bpmn(process_key: str | None, content: bytes, locale: str | None, filename: str = "diagram.bpmn"
                   ) -> bytes:
    """A copy of a BPMN file whose drawn names (pool, tasks, events, gateways, flows) are in
    ``locale``: what the diagram viewer of a reader in that language is given. Names
    without a translation (lanes: group slugs) stay as they are; nothing else changes.

    :raises engine.errors.ValidationError: the content is not safe, well-formed XML
    """
    if not locale or locale == DEFAULT_LOCALE:
        return content
    from lxml import etree

    from engine.xmlsafe import parse_xml
    root = parse_xml(content, filename)
    changed = False
    for element in root.iter(f"{{{_BPMN_NS}}}*"):
        name = element.get("name")
        if name and name.strip():
            shown = text(process_key, name.strip(), locale)
            if shown != name.strip():
                element.set("name", shown)
                changed = True
    if not changed:
        return content
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
