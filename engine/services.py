"""Service-task operators: plain functions registered by name.

``processes`` registers its operators here; the engine never imports them. A
service task's ``spiffworkflow:serviceTaskOperator id="NAME"`` names one; the
worker calls it with the evaluated parameters and stores the JSON-able result in
the task's ``resultVariable``.
"""

from __future__ import annotations

from collections.abc import Callable

Operator = Callable[..., object]

_operators: dict[str, Operator] = {}


def register_operator(name: str, func: Operator) -> None:
    """Make ``func`` callable from service tasks as ``name``."""
    _operators[name] = func


def get_operator(name: str) -> Operator:
    try:
        return _operators[name]
    except KeyError:
        raise LookupError(f"no service operator named {name!r} is registered") from None


def operator_names() -> set[str]:
    return set(_operators)
