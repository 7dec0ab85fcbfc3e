"""Reading definition files from disk for ``sek validate`` and ``sek deploy``.

Paths are files or folders (read recursively for ``.bpmn``, ``.dmn`` and ``.json``
files); each file becomes ``{name: bytes}`` as :mod:`engine.validation` checks it.
Whatever cannot be read is said in one line at that path, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import Problem, ValidationError
from engine.spiff_problems import clean
from engine.xmlsafe import MAX_XML_BYTES

SUFFIXES = (".bpmn", ".dmn", ".json")


def load_paths(paths: list[str]) -> dict[str, bytes]:
    """Read BPMN, DMN and JSON files from files and folders (folders recursively).

    A folder's files are named by their path relative to that folder, a file given
    directly by its base name. Files over the size limit are read only far enough
    for :func:`validate_files` to refuse them. Devices, pipes and sockets are never
    opened (reading a pipe could wait forever).

    :raises ValidationError: when a path does not exist, is not a regular file or a
        folder, is a folder without BPMN, DMN or JSON files, cannot be read, or when
        two files get one name.
    """
    files: dict[str, bytes] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    for path in paths:
        found, problem = _files_at(Path(path))
        if problem:
            problems.append(Problem(path, problem))
        for name, file_path in found:
            if name in files:
                problems.append(Problem(name, f"two files have this name: {origins[name]} and {file_path}"))
                continue
            try:
                with open(file_path, "rb") as handle:
                    files[name] = handle.read(MAX_XML_BYTES + 1)
            except OSError as exc:
                problems.append(Problem(name, f"cannot be read: {exc.strerror or exc}"))
                continue
            origins[name] = str(file_path)
    if problems:
        raise ValidationError("some files could not be read", [clean(p) for p in problems])
    return files


def _files_at(base: Path) -> tuple[list[tuple[str, Path]], str | None]:
    """``(name, path)`` of the definition files at ``base``, and what is wrong with it if anything."""
    try:
        if base.is_dir():
            found = [(p.relative_to(base).as_posix(), p) for p in sorted(base.rglob("*"))
                     if p.suffix.lower() in SUFFIXES and p.is_file()]
            return found, None if found else "no BPMN, DMN or JSON file in this folder"
        if base.is_file():
            return [(base.name, base)], None
        if base.exists():
            return [], "not a BPMN, DMN or JSON file: a device, pipe or socket, not a regular file"
    except OSError as exc:
        return [], f"cannot be read: {exc.strerror or exc}"
    return [], "no such file or folder"

