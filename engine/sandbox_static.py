"""Which scripts and expressions are bounded by their text, so they may run in-process.

Most gateway conditions, decision table cells, timer expressions and one-line scripts
(``category == "VPN"``, ``working_days(3)``, ``note = reply.get('text', '')``) cannot
loop or grow: :func:`is_bounded` proves it with a strict allowlist grammar, and those
run in the calling process without a budget. Everything else goes to a sandbox
process (:mod:`engine.sandbox_pool`).

The grammar: constants, names, attribute and subscript reads, comparisons and ``in``,
``and``/``or``/``not``, unary minus and plus, ``+`` and ``-``, conditional expressions,
displays, f-strings without format specs, and calls only to functions whose cost is
linear in their arguments (:data:`BOUNDED_CALLS`, :data:`BOUNDED_METHODS`, and the
engine helpers the caller vouches for). Nothing that repeats or multiplies: no loops,
comprehensions, lambdas, ``*``, ``**``, ``<<``, ``%``, format specs, ``:=``. A script
qualifies when it is a few ``name = <such an expression>`` statements none of which
reads a name an earlier one assigned (so no statement can double what the last made).

Text bounds the number of operations; what each works on is the task data the code
reads. :func:`small_inputs` checks that at run time: together, the values the code
names hold at most :data:`SMALL_INPUT` characters or items. Bounded code over small
inputs does at most a fixed multiple of that work.
"""

from __future__ import annotations

import ast
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

MAX_NODES = 64
SMALL_INPUT = 65_536

BOUNDED_CALLS = frozenset({"abs", "bool", "date", "datetime", "float", "int", "isinstance", "len", "max",
                           "min", "str", "timedelta"})
BOUNDED_METHODS = frozenset({"date", "endswith", "fromisoformat", "get", "isoformat", "lower", "now",
                             "startswith", "strip", "upper"})

_NODES = frozenset({
    ast.Expression, ast.Module, ast.Assign, ast.Name, ast.Constant, ast.Attribute, ast.Subscript,
    ast.Slice, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.IfExp, ast.Call, ast.keyword,
    ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr, ast.FormattedValue,
    ast.Load, ast.Store, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
})
_SCALARS = frozenset({bool, float, complex, type(None), date, datetime, time, timedelta, timezone})
_TEXTS = frozenset({str, bytes, bytearray})
_CONTAINERS = frozenset({list, tuple, set, frozenset})


def is_bounded(tree: ast.Expression | ast.Module, calls: frozenset[str]) -> bool:
    """Whether parsed code stays within the bounded grammar.

    :param tree: ``ast.parse(source, mode="eval" or "exec")``.
    :param calls: the names the code may call (:data:`BOUNDED_CALLS` and vouched-for helpers).
    """
    if isinstance(tree, ast.Module):
        assigned: set[str] = set()
        for statement in tree.body:
            if not (isinstance(statement, ast.Assign)
                    and all(isinstance(target, ast.Name) for target in statement.targets)):
                return False
            if reads(statement.value) & assigned:
                return False
            assigned.update(target.id for target in statement.targets)
    size = 0
    for node in ast.walk(tree):
        kind = type(node)
        if kind not in _NODES:
            return False
        if isinstance(node, ast.expr):
            size += 1
        if kind is ast.BinOp and type(node.op) not in (ast.Add, ast.Sub):
            return False
        if kind is ast.FormattedValue and node.format_spec is not None:
            return False
        if kind is ast.keyword and node.arg in (None, "key"):  # f(**options); max(x, key=math.factorial)
            return False
        if kind is ast.Call and not (
                isinstance(node.func, ast.Name) and node.func.id in calls
                or isinstance(node.func, ast.Attribute) and node.func.attr in BOUNDED_METHODS):
            return False
    return size <= MAX_NODES


def reads(tree: ast.AST) -> frozenset[str]:
    """The names that code reads."""
    return frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name)
                     and isinstance(node.ctx, ast.Load))


def small_inputs(scope: dict, names) -> bool:
    """Whether the values of ``names`` in ``scope`` hold, together, at most
    :data:`SMALL_INPUT` characters or items, all of plain data types."""
    budget = SMALL_INPUT
    stack = [scope[name] for name in names if name in scope]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in _SCALARS:
            budget -= 1
        elif kind in _TEXTS:
            budget -= len(value) + 1
        elif kind is int:
            budget -= value.bit_length() // 8 + 1
        elif kind is Decimal:
            _sign, digits, exponent = value.as_tuple()
            # Decimal("1e999999999") is short, but int() of it is not.
            budget -= len(digits) + (abs(exponent) if isinstance(exponent, int) else 0)
        elif kind is dict:
            budget -= 2 * len(value) + 1
            if budget >= 0:
                stack.extend(value.keys())
                stack.extend(value.values())
        elif kind in _CONTAINERS:
            budget -= len(value) + 1
            if budget >= 0:
                stack.extend(value)
        else:
            return False
        if budget < 0:
            return False
    return True
