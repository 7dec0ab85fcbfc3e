"""What text the engine takes from outside: one rule for every door (portal, task forms,
the conversation, the JSON API, the CLI).

Every string in submitted data, field names included, must be

- **encodable Unicode**: no lone surrogates (U+D800-U+DFFF; ``json.loads`` makes them
  from ``"\\ud800"``), which neither UTF-8 nor the database can store;
- **free of control characters**: C0 (U+0000-U+001F, NUL among them) except tab, line
  feed and carriage return; DEL (U+007F) and C1 (U+0080-U+009F) are refused too: no
  keyboard types them, they come from broken conversions or on purpose, and C1's U+009B
  (CSI) starts a terminal escape sequence, so a value printed by ``sek tasks`` or into a
  log could rewrite an operator's screen;
- **bounded**: at most :data:`TEXT_MAX` characters a string. That is the ceiling for a
  field no form declares; forms declare tighter limits per field in their JSON Schema
  (a subject 300, a message 10 000; see :mod:`engine.forms`), and the conversation its
  own (:data:`engine.conversation.BODY_MAX`). A whole payload holds at most
  :data:`DATA_MAX` characters of names and text, nested at most :data:`DEPTH_MAX` deep.

Problems are located by the dotted path of the field (``subject``, ``items.0.name``),
like the form validation's, so each edge can put them next to their field.
"""

from __future__ import annotations

import re

from .errors import Problem, ValidationError

# The longest text a SEK form asks for (software_development's requirements note).
TEXT_MAX = 20_000
# A field name: longer than any a form declares, short enough to show in an error.
NAME_MAX = 200
# Names and text of one payload together: above a form's few long texts, since data given from a
# file (`sek start --data @FILE`, a seat list of a lab) may be longer than a command line holds
# (128 KiB), and still a bound on what one command stores and hashes.
DATA_MAX = 500_000
# Nesting of objects and lists (forms nest two or three levels).
DEPTH_MAX = 20
# Enough to show what is wrong; a payload with thousands of bad values gets no longer answer.
PROBLEMS_MAX = 20

# Codes of the problems (Problem.code), for edges to word them.
MAX_LENGTH = "maxLength"          # params: limit
CONTROL = "control_character"     # params: char ("U+0000")
UNICODE = "unicode"               # a lone surrogate
DATA_SIZE = "data_size"           # params: limit
DEPTH = "depth"                   # params: limit
CODES = (CONTROL, UNICODE, DATA_SIZE, DEPTH)   # this module's own (maxLength is JSON Schema's too)

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def codepoint(char: str) -> str:
    """``U+0000``: how a refused character is named (it cannot be shown as itself)."""
    return f"U+{ord(char):04X}"


def text_problems(text: str, location: str, *, max_length: int | None = TEXT_MAX) -> list[Problem]:
    """What is wrong with one string (empty list: nothing).

    :param location: the field, for the problems
    :param max_length: this field's own limit, when it has a tighter one than :data:`TEXT_MAX`
        (None: the door bounds sizes itself)
    """
    problems = []
    if _REFUSED.search(text):   # the usual text needs this one scan only
        if _SURROGATE.search(text):
            problems.append(Problem(location, "contains text that is not valid Unicode (a lone surrogate)", UNICODE))
        control = _CONTROL.search(text)
        if control:
            char = codepoint(control.group())
            problems.append(Problem(location, f"contains the control character {char} (only tab and line "
                                              "breaks are allowed)", CONTROL, {"char": char}))
    if max_length is not None and len(text) > max_length:
        problems.append(Problem(location, f"at most {max_length} characters", MAX_LENGTH, {"limit": max_length}))
    return problems


def problems(value, location: str = "", *, sizes: bool = True) -> list[Problem]:
    """What is wrong with the text in a JSON-like value (dicts, lists, strings, numbers...).

    :param location: the path of ``value`` itself (``""``: the whole payload)
    :param sizes: False for a door with its own, larger limits (the modeler's diagram
        files): only the characters are checked then
    :returns: at most :data:`PROBLEMS_MAX` problems, each at its field's dotted path
    """
    found: list[Problem] = []
    size = _walk(value, location, 0, found, TEXT_MAX if sizes else None)
    if sizes and size > DATA_MAX:
        found.append(Problem(location, f"at most {DATA_MAX} characters of text altogether", DATA_SIZE,
                             {"limit": DATA_MAX}))
    return found[:PROBLEMS_MAX]


def check(value, location: str = "", *, max_length: int = TEXT_MAX, sizes: bool = True) -> None:
    """Refuse a value with bad text before anything is stored.

    :param max_length: for a single string, its field's own limit
    :param sizes: see :func:`problems`
    :raises ValidationError: every problem (see :func:`problems`)
    """
    if isinstance(value, str):
        found = text_problems(value, location, max_length=max_length if sizes else None)
    else:
        found = problems(value, location, sizes=sizes)
    if found:
        raise ValidationError("the text was refused", found)


def cleaned(text: str) -> str:
    """``text`` without the characters this module refuses: what was typed, to show it back."""
    return _REFUSED.sub("", text)


def _walk(value, location: str, depth: int, found: list[Problem], max_length: int | None) -> int:
    """Collect problems under ``value``; return how many characters of text it holds."""
    if isinstance(value, str):
        found.extend(text_problems(value, location, max_length=max_length))
        # a string already refused as too long counts only up to its limit: one problem, not two
        return min(len(value), max_length) if max_length else len(value)
    if not isinstance(value, dict | list | tuple):
        return 0
    if depth >= DEPTH_MAX:
        found.append(Problem(location, f"nested more than {DEPTH_MAX} levels deep", DEPTH, {"limit": DEPTH_MAX}))
        return 0
    size = 0
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        # A refused character cannot be shown in a location: the path keeps the rest of the name.
        name = str(key)
        name = (cleaned(name) if _REFUSED.search(name) else name)[:NAME_MAX]
        path = f"{location}.{name}" if location and name else name or location
        if isinstance(key, str):
            size += len(key)
            for problem in text_problems(key, path, max_length=NAME_MAX if max_length else None):
                found.append(Problem(path, f"the field name {problem.message}", problem.code, problem.params))
        size += _walk(item, path, depth + 1, found, max_length)
        if len(found) > PROBLEMS_MAX:
            break
    return size
