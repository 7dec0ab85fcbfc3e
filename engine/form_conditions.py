"""Which fields of a JSON Schema form matter for the data given: the form's conditionals.

A task form often asks for a choice, and only some fields matter for each option (an
answer when answering, a unit and its address when routing). JSON Schema says so with
three keywords, read here at the top level of the form (and inside a top-level
``allOf``):

- ``if`` / ``then`` / ``else``: the fields ``then`` names (in its ``properties`` or
  ``required``) matter when ``if`` holds, those of ``else`` when it does not;
- ``oneOf`` of object branches sharing a *discriminator*, a property each branch fixes
  with ``const`` (``{"properties": {"action": {"const": "answer"}, "answer": {...}}}``):
  the fields of the branch whose constant was chosen;
- ``dependentRequired`` (``{"a": ["b"]}``): ``b`` matters once ``a`` is filled in.

A field that some condition names and that the form does not require outright is
*conditional*: it is neither required nor kept unless one of its conditions holds
(:func:`prune`). A condition holds only when its deciding field was chosen: a choice left
empty brings in no field, whatever ``else`` says. Every other field always matters.
The pages show each condition's fields as a section that appears with the choice, from
the same :func:`conditions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from jsonschema.validators import validator_for

EQUALS, FILLED, SCHEMA = "equals", "filled", "schema"


@dataclass(frozen=True)
class Condition:
    """Fields that matter only in one case.

    ``kind`` is ``"equals"`` (``control`` holds one of ``values``; ``negate``: none of
    them), ``"filled"`` (``control`` is filled in: present and not empty, ``false`` or
    ``null``) or ``"schema"`` (the data satisfies ``test``; ``negate``: does not).
    """

    kind: str
    control: str | None
    values: tuple = ()
    fields: tuple[str, ...] = ()
    title: str = ""
    test: dict | None = None
    negate: bool = False
    required: tuple[str, ...] = ()   # those of ``fields`` required in this case

    def holds(self, data: dict) -> bool:
        """Whether this case applies to ``data``."""
        if self.kind == SCHEMA:
            return _is_valid(self.test, data) != self.negate
        if self.control not in data:
            return False
        value = data[self.control]
        if self.kind == FILLED:
            return value not in (None, False, "", [], {})
        return any(same_value(value, v) for v in self.values) != self.negate


def same_value(a, b) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _is_valid(schema: dict | None, data: dict) -> bool:
    if not isinstance(schema, dict):
        return True
    return validator_for(schema)(schema).is_valid(data)


def options_of(prop: dict) -> list | None:
    """The values a property may take (``enum`` or ``oneOf``/``anyOf`` of ``const``), if listed."""
    if not isinstance(prop, dict):
        return None
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    for key in ("oneOf", "anyOf"):
        branches = prop.get(key)
        if isinstance(branches, list) and branches and all(isinstance(b, dict) and "const" in b for b in branches):
            return [b["const"] for b in branches]
    return None


def _names(branch) -> tuple[str, ...]:
    """The fields a branch schema names: its properties, then its required fields."""
    if not isinstance(branch, dict):
        return ()
    names = [n for n in (branch.get("properties") or {}) if isinstance(n, str)]
    names += [n for n in branch.get("required") or [] if isinstance(n, str) and n not in names]
    return tuple(names)


def _simple_if(test) -> tuple[str, tuple] | None:
    """``{"properties": {"x": {"const": v}}}`` (or ``enum``) as ``("x", (v,))``."""
    if not isinstance(test, dict) or set(test) - {"properties", "required", "type"}:
        return None
    props = test.get("properties") or {}
    if len(props) != 1:
        return None
    [(name, check)] = props.items()
    if not isinstance(check, dict):
        return None
    if set(check) == {"const"}:
        return name, (check["const"],)
    if set(check) == {"enum"} and isinstance(check["enum"], list):
        return name, tuple(check["enum"])
    return None


def _if_conditions(node: dict, properties: dict) -> list[Condition]:
    if "if" not in node:
        return []
    found = []
    simple = _simple_if(node["if"])
    then, other = node.get("then"), node.get("else")
    if simple is not None:
        control, values = simple
        if then is not None:
            found.append(Condition(EQUALS, control, values, _names(then), _title(then), required=_req(then)))
        if other is not None:
            every = options_of(properties.get(control) or {})
            if every is not None:   # "else" as the other options: a choice left empty brings in nothing
                rest = tuple(v for v in every if not any(same_value(v, w) for w in values))
                found.append(Condition(EQUALS, control, rest, _names(other), _title(other), required=_req(other)))
            else:
                found.append(Condition(EQUALS, control, values, _names(other), _title(other), negate=True,
                                       required=_req(other)))
        return found
    if then is not None:
        found.append(Condition(SCHEMA, None, (), _names(then), _title(then), test=node["if"], required=_req(then)))
    if other is not None:
        found.append(Condition(SCHEMA, None, (), _names(other), _title(other), test=node["if"], negate=True,
                                   required=_req(other)))
    return found


def _req(branch) -> tuple[str, ...]:
    if not isinstance(branch, dict):
        return ()
    return tuple(n for n in branch.get("required") or [] if isinstance(n, str))


def branch_properties(schema: dict) -> dict[str, dict]:
    """The property schemas the form's branches declare (``then``, ``else``, ``oneOf``
    branches), merged per field: what a page needs to draw a field the top level only names."""
    found: dict[str, dict] = {}
    nodes = [schema, *(i for i in schema.get("allOf") or [] if isinstance(i, dict))]
    branches = [n.get(k) for n in nodes for k in ("then", "else")]
    if discriminator(schema.get("oneOf")) is not None:
        branches += schema["oneOf"]
    for branch in branches:
        if isinstance(branch, dict):
            for name, prop in (branch.get("properties") or {}).items():
                if isinstance(prop, dict) and "const" not in prop:   # a discriminator is the choice itself
                    found[name] = {**found.get(name, {}), **prop}
    return found


def _title(branch) -> str:
    return str(branch.get("title") or "") if isinstance(branch, dict) else ""


def choice_options(schema: dict, control: str) -> list[tuple[object, str]]:
    """The options of a ``oneOf`` discriminator as (value, branch title)."""
    return [(b["properties"][control]["const"], _title(b)) for b in schema.get("oneOf") or []
            if isinstance(b, dict) and control in (b.get("properties") or {})]


def discriminator(branches) -> str | None:
    """The property every ``oneOf`` branch fixes with ``const`` (the choice between them), if any."""
    if not isinstance(branches, list) or not branches or not all(isinstance(b, dict) for b in branches):
        return None
    common = None
    for branch in branches:
        props = branch.get("properties") or {}
        fixed = {n for n, p in props.items() if isinstance(p, dict) and "const" in p}
        common = fixed if common is None else common & fixed
    if not common:
        return None
    first = branches[0].get("properties") or {}
    return next(n for n in first if n in common)


def _one_of_conditions(schema: dict) -> list[Condition]:
    branches = schema.get("oneOf")
    control = discriminator(branches)
    if control is None:
        return []
    return [Condition(EQUALS, control, (b["properties"][control]["const"],),
                      tuple(n for n in _names(b) if n != control), _title(b), required=_req(b)) for b in branches]


@cache
def _conditions_of(frozen: str) -> tuple[Condition, ...]:
    return tuple(_collect(json.loads(frozen)))


def conditions(schema: dict | None) -> tuple[Condition, ...]:
    """Every condition of a form, in schema order (cached by the schema's content)."""
    if not isinstance(schema, dict):
        return ()
    try:
        frozen = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return tuple(_collect(schema))
    return _conditions_of(frozen)


def _collect(schema: dict) -> list[Condition]:
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        properties = {}
    found = _one_of_conditions(schema) + _if_conditions(schema, properties)
    for item in schema.get("allOf") or []:
        if isinstance(item, dict):
            found += _if_conditions(item, properties)
    for control, needed in (schema.get("dependentRequired") or {}).items():
        if isinstance(needed, list):
            names = tuple(n for n in needed if isinstance(n, str))
            found.append(Condition(FILLED, control, (), names, required=names))
    required = set(schema.get("required") or [])
    # a field the form always requires is never conditional, nor is a condition's own control
    return [Condition(c.kind, c.control, c.values, tuple(f for f in c.fields if f not in required
                                                        and f != c.control), c.title, c.test, c.negate, c.required)
            for c in found]


def conditional_fields(schema: dict | None) -> set[str]:
    """The fields that matter only when one of their conditions holds."""
    return {name for c in conditions(schema) for name in c.fields}


def inactive_fields(schema: dict | None, data: dict) -> set[str]:
    """The conditional fields of ``schema`` none of whose conditions holds for ``data``.

    A field decided by a field that is itself inactive is inactive too.
    """
    conds = conditions(schema)
    if not conds or not isinstance(data, dict):
        return set()
    conditional = {name for c in conds for name in c.fields}
    current = data
    while True:
        active = {name for c in conds if c.holds(current) for name in c.fields}
        inactive = conditional - active
        kept = {k: v for k, v in data.items() if k not in inactive}
        if len(kept) == len(current):
            return inactive
        current = kept


def undecided_fields(schema: dict | None, data: dict) -> set[str]:
    """The inactive fields whose choice was not made at all (every deciding field is empty):
    their values are still checked, though not required; those of a case not chosen are not."""
    inactive = inactive_fields(schema, data)
    if not inactive:
        return set()
    decided = set()
    for condition in conditions(schema):
        if condition.kind != EQUALS or condition.control in data:
            decided.update(name for name in condition.fields if name in inactive)
    return inactive - decided


def prune(schema: dict | None, data: dict) -> dict:
    """``data`` without the values of the fields that do not matter (see :func:`inactive_fields`)."""
    if not isinstance(data, dict):
        return data
    inactive = inactive_fields(schema, data)
    return {k: v for k, v in data.items() if k not in inactive} if inactive else data
