"""Service-task operators: plain functions registered by name.

``processes`` registers its operators here; the engine never imports them. A
service task's ``spiffworkflow:serviceTaskOperator id="NAME"`` names one; the
worker calls it with the evaluated parameters and stores the JSON-able result in
the task's ``resultVariable``. Built in: ``send_mail(to, subject, body)``
(``to``: addresses or ``group:<slug>`` / ``lead:<slug>``, :mod:`engine.directory`) and
``start_request(process, data)`` (a linked child request, :mod:`engine.linked`).
"""

from __future__ import annotations

from collections.abc import Callable

Operator = Callable[..., object]

_operators: dict[str, Operator] = {}


def register_operator(name: str, func: Operator) -> None:
    """Make ``func`` callable from service tasks as ``name``."""
    _operators[name] = func


def _builtins() -> dict[str, Operator]:
    from .jobs import send_mail_operator
    from .linked import start_request_operator

    return {"send_mail": send_mail_operator, "start_request": start_request_operator}


def get_operator(name: str) -> Operator:
    operator = _operators.get(name) or _builtins().get(name)
    if operator is None:
        raise LookupError(f"no service operator named {name!r} is registered")
    return operator


def operator_names() -> set[str]:
    """Every operator a service task may name: the built-ins and the registered ones."""
    return set(_builtins()) | set(_operators)
