"""What the modeler edits: the files of a process's latest version, who may change them,
and the edited copy made ready for the validator and the deploy.

The working copy lives in the browser until it is deployed; the server keeps nothing
between requests but the deployed versions themselves.
"""

from __future__ import annotations

import posixpath
import re

from engine import definitions, owners, validation
from engine.errors import NotFoundError, Problem, ValidationError
from engine.xmlsafe import MAX_XML_BYTES, parse_xml
from processes import catalog

MAX_FORM_FILES = 50
_FORM_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*\.json$")


def require_edit(user, key: str) -> None:
    """Save and deploy only for those who may change ``key``: the engine's rule
    (:func:`engine.owners.may_change`), the same at every door.

    :raises PermissionDeniedError: naming the process and its owning group
    """
    owners.require_change(user, [key], "change")


def _defines(content: bytes, name: str, key: str) -> bool:
    try:
        root = parse_xml(content, name)
    except ValidationError:
        return False
    return any(p.get("id") == key for p in root.iterfind(".//bpmn:process", validation.NS))


def _catalog_entry(key: str) -> catalog.CatalogEntry | None:
    try:
        return catalog.entry(key)
    except LookupError:
        return None


def current_files(session, key: str) -> tuple[int | None, str, dict[str, bytes]]:
    """``(version, BPMN file name, files)`` of the latest deployed version of ``key``;
    a catalog drawing not deployed yet comes as version ``None`` with its one file.

    :raises NotFoundError: neither deployed nor in the catalog
    """
    try:
        definition = definitions.get_definition(session, key)
    except NotFoundError:
        entry = _catalog_entry(key)
        if entry is None or not entry.bpmn_path.is_file():
            raise
        return None, entry.bpmn_file, {entry.bpmn_file: entry.bpmn_path.read_bytes()}
    files = {f.name: f.content for f in definition.files}
    bpmn_name = _defining_file(files, key) or f"{key}.bpmn"
    return definition.version, bpmn_name, files


def edited_files(session, key: str, bpmn: str, forms: dict) -> tuple[str, dict[str, bytes]]:
    """The latest version's files with the edited BPMN and form files put in their place.

    :raises ValidationError: a form file name that is not a plain relative ``.json`` name,
        too many or too large files
    """
    _version, bpmn_name, files = current_files(session, key)
    problems = []
    if not isinstance(bpmn, str) or not bpmn.strip():
        problems.append(Problem(bpmn_name, "the diagram is empty"))
    if not isinstance(forms, dict) or len(forms) > MAX_FORM_FILES:
        problems.append(Problem("", f"at most {MAX_FORM_FILES} form files, as an object of name to text"))
        forms = {}
    for name, text in forms.items():
        clean = posixpath.normpath(name) if isinstance(name, str) else ""
        if not _FORM_NAME.match(clean) or clean != name or clean.startswith(".."):
            problems.append(Problem(str(name), "a form file needs a plain relative name ending in .json"))
        elif not isinstance(text, str) or len(text.encode("utf-8")) > MAX_XML_BYTES:
            problems.append(Problem(name, f"a form file must be text of at most {MAX_XML_BYTES} bytes"))
        else:
            files[name] = text.encode("utf-8")
    if problems:
        raise ValidationError("the files were refused", problems)
    files[bpmn_name] = bpmn.encode("utf-8")
    return bpmn_name, files


def check(files: dict[str, bytes], bpmn_name: str, key: str, known_operators: set[str], user) -> list[Problem]:
    """What ``sek validate`` says of the files, plus: the diagram still defines ``key`` as
    an executable process (a renamed process would deploy as another one), and every
    executable process in them is one ``user`` may change (a second process hidden in the
    file would be deployed too; the deploy refuses it anyway, this names it on the canvas)."""
    problems = validation.validate_files(files, require_executable=False, known_operators=known_operators)
    if problems:
        return problems
    executable = validation.executable_process_ids(files)
    if key not in executable:
        problems.append(Problem(f"{bpmn_name}:{key}",
                                f"the diagram must keep the executable process '{key}' (id and isExecutable)"))
    for other in executable:
        reason = owners.refusal(user, other)
        if reason:
            problems.append(Problem(f"{_defining_file(files, other) or bpmn_name}:{other}", reason))
    return problems


def _defining_file(files: dict[str, bytes], key: str) -> str | None:
    return next((name for name, content in files.items() if name.endswith(".bpmn") and _defines(content, name, key)),
                None)


def problem_dicts(problems: list[Problem]) -> list[dict]:
    """Problems for the browser: the file and the element (BPMN ids never hold a colon)."""
    rows = []
    for problem in problems:
        file, _sep, element = problem.location.rpartition(":")
        if not _sep:
            file, element = problem.location, ""
        rows.append({"location": problem.location, "file": file, "element_id": element or None,
                     "message": problem.message})
    return rows
