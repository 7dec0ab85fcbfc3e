"""Where a reader meets process content: every Turkish string a process shows.

The translation check (``tests/processes/test_process_translations.py``) and the
catalog writer (``python -m processes.i18n_sources KEY``) both read the files of a
process with these functions, so "what must have its English" is said once:

- the BPMN: the names of the pool, the process and every element a diagram draws
  (tasks, events, gateways, labelled flows), each user task's
  ``instructionsForEndUser`` and the texts of its :data:`TEXT_PROPERTIES`;
- the DMN tables: their names and column labels;
- the JSON Schema forms a BPMN names, with their UI schemas: titles, descriptions,
  enum labels (the values themselves when the form gives no labels), ``ui:title``,
  ``ui:help``, ``ui:placeholder``, ``ui:description`` and button texts;
- texts a process declares in Python (:data:`PYTHON_TEXTS`, and what
  :func:`python_texts` finds in the modules of ``processes/``: the labels of
  ``STAFF_DATA``, module constants named ``*_TEXT``, the messages of form rules'
  ``problem(key, field, "...")`` and every ``text(key, "...", locale)`` whose source is a
  literal or a module constant).

Lane names are group slugs (``network``), not words, and ``documentation`` elements
are the process owners' English notes; neither is extracted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from lxml import etree

from . import catalog

BPMN_DIR = catalog.BPMN_DIR
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# spiffworkflow:property names whose value is text a reader sees (requester-facing
# statuses and outcomes: another step of issue 13 declares them on waiting steps).
TEXT_PROPERTIES = ("requesterStatus", "requesterOutcome", "statusForRequester", "outcomeForRequester")
# spiffworkflow:property names whose value lists "key: Label; key: Label" (labels shown).
LABEL_PROPERTIES = ("requesterShows",)
# Keys of a JSON Schema whose string values are shown, and those of a UI schema field.
_SCHEMA_TEXT_KEYS = ("title", "description")
_UI_TEXT_KEYS = ("ui:title", "ui:help", "ui:placeholder", "ui:description")
_SLUG = re.compile(r"[a-z0-9_\-]+")


def executable_keys() -> list[str]:
    """The catalog processes whose BPMN runs (``isExecutable="true"``), in catalog order."""
    keys = []
    for item in catalog.CATALOG:
        path = item.bpmn_path
        if path.is_file() and b'isExecutable="true"' in path.read_bytes():
            keys.append(item.key)
    return keys


def _parse(path: Path):
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.parse(str(path), parser)


def _clean(text: str | None) -> str:
    return (text or "").strip()


def bpmn_texts(path: Path) -> Iterator[str]:
    """The names and instructions a reader of this BPMN (diagram, inbox, task page) sees."""
    root = _parse(path).getroot()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        namespace, _, local = element.tag[1:].partition("}")
        if namespace == BPMN_NS and local not in ("lane", "definitions", "message", "signal", "error",
                                                  "escalation", "dataStoreReference", "dataObject"):
            name = _clean(element.get("name"))
            if name and not _SLUG.fullmatch(name):
                yield name
        elif namespace == SPIFF_NS and local == "instructionsForEndUser":
            instructions = _clean(element.text)
            if instructions:
                yield instructions
        elif namespace == SPIFF_NS and local == "property" and element.get("name") in TEXT_PROPERTIES:
            value = _clean(element.get("value"))
            if value:
                yield value
        elif namespace == SPIFF_NS and local == "property" and element.get("name") in LABEL_PROPERTIES:
            for part in (element.get("value") or "").split(";"):
                label = _clean(part.partition(":")[2])
                if label:
                    yield label


def dmn_texts(path: Path) -> Iterator[str]:
    """The table names and column labels of a DMN file (the modeler and the diagram show them)."""
    root = _parse(path).getroot()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("name", "label") if element.tag.endswith(("}definitions", "}decision")) \
                else ("label",):
            value = _clean(element.get(attribute))
            if value and not _SLUG.fullmatch(value):
                yield value


def form_files(path: Path) -> list[str]:
    """The JSON Schema and UI schema files a BPMN names, in order of appearance."""
    names = []
    for element in _parse(path).getroot().iter(f"{{{SPIFF_NS}}}formJsonSchemaFilename",
                                               f"{{{SPIFF_NS}}}formUiSchemaFilename"):
        name = _clean(element.text)
        if name and name not in names:
            names.append(name)
    return names


def schema_texts(schema: dict) -> Iterator[str]:
    """Titles, descriptions and enum labels anywhere in a JSON Schema (conditionals included)."""
    if not isinstance(schema, dict):
        return
    for key in _SCHEMA_TEXT_KEYS:
        if isinstance(schema.get(key), str) and schema[key].strip():
            yield schema[key].strip()
    names = schema.get("enumNames")
    if isinstance(names, list):
        yield from (str(n).strip() for n in names if str(n).strip())
    elif isinstance(schema.get("enum"), list):
        # no labels given: the values are the labels a reader sees
        yield from (v.strip() for v in schema["enum"] if isinstance(v, str) and v.strip())
    for key in ("properties", "dependentSchemas", "$defs", "definitions"):
        for sub in (schema.get(key) or {}).values():
            yield from schema_texts(sub)
    for key in ("items", "if", "then", "else", "not", "contains", "additionalProperties"):
        yield from schema_texts(schema.get(key))
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key) or []:
            yield from schema_texts(sub)


def ui_texts(ui: dict) -> Iterator[str]:
    """Titles, help, placeholders, enum labels and button texts of a UI schema."""
    if not isinstance(ui, dict):
        return
    for key, value in ui.items():
        if key in _UI_TEXT_KEYS and isinstance(value, str) and value.strip():
            yield value.strip()
        elif key == "ui:enumNames" and isinstance(value, list):
            yield from (str(n).strip() for n in value if str(n).strip())
        elif key == "ui:submitButtonOptions" and isinstance(value, dict):
            if isinstance(value.get("submitText"), str) and value["submitText"].strip():
                yield value["submitText"].strip()
        elif key == "ui:options" and isinstance(value, dict):
            for label_key in ("submitText", "addButtonText", "label"):
                if isinstance(value.get(label_key), str) and value[label_key].strip():
                    yield value[label_key].strip()
        elif isinstance(value, dict):
            yield from ui_texts(value)


def form_texts(name: str, folder: Path = BPMN_DIR) -> Iterator[str]:
    """The texts of one form file (a ``.schema.json`` or a ``.ui.json``)."""
    data = json.loads((folder / name).read_text(encoding="utf-8"))
    yield from (ui_texts(data) if name.endswith(".ui.json") else schema_texts(data))


# Texts a process declares in Python, by process key (None: shared by every process).
# Each entry: a function giving the strings; kept as functions so importing this module
# loads nothing else.
def _requester_texts() -> Iterator[str]:
    from .requester import REQUESTER_SCHEMA
    yield from schema_texts(REQUESTER_SCHEMA)


PYTHON_TEXTS = {None: (("processes/requester.py", _requester_texts),)}
PROCESSES_DIR = Path(__file__).resolve().parent


@cache
def python_texts() -> list[tuple[str | None, str, str]]:
    """The texts the modules of ``processes/`` declare, as ``(process key, file, text)``;
    the key is ``None`` when a shared module names no process (the text must then have
    its English in some catalog). A module in ``processes/<key>/`` speaks for ``key``."""
    found = []
    for path in sorted(PROCESSES_DIR.rglob("*.py")):
        relative = path.relative_to(PROCESSES_DIR)
        own = relative.parts[0] if len(relative.parts) > 1 else None
        file = f"processes/{relative.as_posix()}"
        for key, source in _module_texts(path):
            found.append((key or own, file, source))
    return found


def _module_texts(path: Path) -> Iterator[tuple[str | None, str]]:
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                constants[name] = value.value
                if name.endswith("_TEXT") and value.value.strip():   # a declared text, by convention
                    yield None, value.value.strip()
            elif name == "STAFF_DATA" and isinstance(value, ast.Dict):
                for label in value.values:
                    if isinstance(label, ast.Constant) and isinstance(label.value, str) and label.value.strip():
                        yield None, label.value.strip()

    def resolved(node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if func in ("problem", "date_not_past", "date_not_ahead") and len(node.args) >= 3:
            key, source = resolved(node.args[0]), resolved(node.args[2])
        elif func == "text" and len(node.args) >= 2:
            key, source = resolved(node.args[0]), resolved(node.args[1])
        else:
            continue
        if source and source.strip():
            yield key, source.strip()


def unattributed_texts() -> list[tuple[str, str]]:
    """``(file, text)`` of the Python texts no process claims (see :func:`python_texts`)."""
    return [(file, source) for key, file, source in python_texts() if key is None]


def _decision_files(bpmn: Path) -> list[Path]:
    """The DMN files of ``bpmn/`` a process reads: its own (``<key>.*.dmn``) and those
    defining the decisions its business rule tasks call (a table two processes share)."""
    called = {_clean(ref.text) for ref in _parse(bpmn).getroot().iter(f"{{{SPIFF_NS}}}calledDecisionId")}
    key = bpmn.stem
    found = []
    for dmn in sorted(BPMN_DIR.glob("*.dmn")):
        decisions = {d.get("id") for d in _parse(dmn).getroot().iter() if isinstance(d.tag, str)
                     and d.tag.endswith("}decision")}
        if dmn.name.startswith(f"{key}.") or decisions & called:
            found.append(dmn)
    return found


def process_sources(key: str | None) -> list[tuple[str, str]]:
    """Every reader-visible string of process ``key`` (``None``: the shared texts), as
    ``(file, text)`` pairs, in file order, each text once."""
    pairs: list[tuple[str, str]] = []
    if key is not None:
        bpmn = BPMN_DIR / f"{key}.bpmn"
        pairs += [(f"bpmn/{bpmn.name}", t) for t in bpmn_texts(bpmn)]
        for dmn in _decision_files(bpmn):
            pairs += [(f"bpmn/{dmn.name}", t) for t in dmn_texts(dmn)]
        for name in form_files(bpmn):
            if (BPMN_DIR / name).is_file():
                pairs += [(f"bpmn/{name}", t) for t in form_texts(name)]
    for file, texts in PYTHON_TEXTS.get(key, ()):
        pairs += [(file, t) for t in texts()]
    if key is not None:
        pairs += [(file, t) for owner, file, t in python_texts() if owner == key]
    seen: set[str] = set()
    unique = []
    for file, text in pairs:
        if text not in seen:
            seen.add(text)
            unique.append((file, text))
    return unique


def missing(key: str | None, locale: str = "en") -> list[tuple[str, str]]:
    """The ``(file, text)`` pairs of process ``key`` whose ``locale`` translation is missing
    (an entry absent, or present with an empty ``msgstr``)."""
    from .i18n import catalog_entries
    done = {source for source, translated in catalog_entries(key, locale).items() if translated}
    todo = [(file, text) for file, text in process_sources(key) if text not in done]
    if key is None:   # a shared module's text: its English may be in any catalog
        anywhere = {source for k in [*executable_keys(), None]
                    for source, translated in catalog_entries(k, locale).items() if translated}
        todo += [(file, text) for file, text in unattributed_texts() if text not in anywhere]
    return todo


def obsolete(key: str | None, locale: str = "en") -> list[str]:
    """Entries of the catalog of ``key`` that no file of the process shows any more."""
    from .i18n import catalog_entries
    shown = {text for _file, text in process_sources(key)}
    shown |= {text for _file, text in unattributed_texts()}
    return [source for source in catalog_entries(key, locale) if source not in shown]


def po_entry(file: str, source: str, translated: str = "") -> str:
    """One gettext entry, as appended to a catalog (a ``#:`` line naming where it is shown)."""
    from babel.messages.pofile import normalize
    return (f"\n#: {file}\nmsgid {normalize(source, width=0)}\n"
            f"msgstr {normalize(translated, width=0)}\n")


def append_missing(key: str | None, locale: str = "en") -> int:
    """Append an empty entry for every missing text to the catalog of ``key`` (at its end,
    so that helpers adding texts in parallel merge without conflicts); returns how many."""
    from .i18n import catalog_path
    todo = missing(key, locale)
    path = catalog_path(key, locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        path.write_text(_HEADER.format(title=key or "shared process texts"), encoding="utf-8")
    with path.open("a", encoding="utf-8") as handle:
        for file, text in todo:
            handle.write(po_entry(file, text))
    return len(todo)


def prune_obsolete(key: str | None, locale: str = "en") -> int:
    """Remove the entries :func:`obsolete` names from the catalog of ``key``; returns how many."""
    from babel.messages.pofile import unescape

    from .i18n import catalog_path
    stale = set(obsolete(key, locale))
    path = catalog_path(key, locale)
    if not stale:
        return 0
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    kept = []
    for block in blocks:
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        source = _msgid(lines, unescape)
        if source not in stale:
            kept.append(block)
    text = "\n\n".join(kept)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return len(blocks) - len(kept)


def _msgid(lines: list[str], unescape) -> str:
    parts, inside = [], False
    for line in lines:
        if line.startswith("msgid "):
            inside, line = True, line[6:]
        elif line.startswith("msgstr"):
            break
        if inside:
            parts.append(unescape(line.strip()))
    return "".join(parts)


def merge_catalogs(ours: str, theirs: str) -> str:
    """Two versions of one catalog as one: ``ours`` as it is, then every entry of ``theirs``
    whose Turkish ``ours`` lacks (or has without English), appended. What a merge of
    branches that each added entries to the same catalog needs (``--resolve``)."""
    import io

    from babel.messages.pofile import read_po
    mine = {m.id: m.string for m in read_po(io.BytesIO(ours.encode("utf-8"))) if m.id}
    added = []
    for message in read_po(io.BytesIO(theirs.encode("utf-8"))):
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        if mine.get(message.id):
            continue
        if message.id in mine:   # ours has the entry without English: fill it in place
            ours = ours.replace(po_entry(_location(ours, message.id), message.id), po_entry(
                _location(ours, message.id), message.id, message.string), 1)
            continue
        where = message.locations[0][0] if message.locations else "merged"
        added.append(po_entry(where, message.id, message.string))
    return ours.rstrip("\n") + "\n" + "".join(added)


def _location(text: str, source: str) -> str:
    from babel.messages.pofile import normalize
    marker = f"\nmsgid {normalize(source, width=0)}\n"
    before = text[:text.find(marker)] if marker in text else ""
    last = before.rsplit("\n", 1)[-1]
    return last[3:] if last.startswith("#: ") else "merged"


def resolve_conflicts(paths: list[str]) -> None:
    """Resolve git's add/add conflicts of catalogs: ours, then what theirs adds."""
    import subprocess
    for path in paths:
        ours = subprocess.run(["git", "show", f":2:{path}"], capture_output=True, text=True, check=True).stdout
        theirs = subprocess.run(["git", "show", f":3:{path}"], capture_output=True, text=True, check=True).stdout
        Path(path).write_text(merge_catalogs(ours, theirs), encoding="utf-8")
        subprocess.run(["git", "add", path], check=True)
        print("resolved", path)


_HEADER = """\
# English of the process content of {title} (msgid: the Turkish source text).
# Append new entries at the end; `python -m processes.i18n_sources` adds the missing ones.
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: en\\n"
"""


if __name__ == "__main__":  # python -m processes.i18n_sources [--prune] [KEY|shared]... | --resolve PATH...
    import sys
    if sys.argv[1:2] == ["--resolve"]:
        resolve_conflicts(sys.argv[2:])
        sys.exit(0)
    prune = "--prune" in sys.argv
    for name in [a for a in sys.argv[1:] if a != "--prune"] or [*executable_keys(), "shared"]:
        key = None if name == "shared" else name
        print(name, "added", append_missing(key), "removed", prune_obsolete(key) if prune else 0)
