"""What a process is started with: its start event's form, completed by the processes layer.

A request carries more than its process's own start form asks: who it is from (the
requester's name, e-mail address, subject, message), which later steps mail and show.
That knowledge is the processes layer's (``processes/requester.py``), so it registers a
provider that turns a process's start form into its complete start schema; the engine
never imports it. Every start is checked against that schema
(:func:`engine.runtime.start_instance`), and the pages build their start forms from the
same schema (:func:`engine.definitions.start_schema`), so no door can let in less.

Without a provider, or for a process the provider leaves alone, the start form of the
BPMN is the whole schema; a process without one takes any JSON object.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import ValidationError
from .forms import validate_form_data

Schema = dict | None
# (process key, start form, its UI schema) -> (complete schema, complete UI schema)
Provider = Callable[[str, Schema, Schema], tuple[Schema, Schema]]

_providers: list[Provider] = []


def register_start_schema(provider: Provider) -> None:
    """Let ``provider`` complete every process's start schema (registering it again is a no-op)."""
    if provider not in _providers:
        _providers.append(provider)


def complete(key: str, form: Schema, ui: Schema) -> tuple[Schema, Schema]:
    """The complete start schema and UI schema of process ``key``, from its start form.

    The provider gets (and may return) the very dicts given: callers pass copies.
    """
    for provider in _providers:
        form, ui = provider(key, form, ui)
    return form, ui


def check(key: str, form: Schema, ui: Schema, data: dict, *, by_event: bool = False) -> None:
    """Refuse start data that does not fit the complete start schema of ``key``.

    :param by_event: the start is an event's (a timer's cycle, a message, a webhook), not a
        person's: nobody is requesting, so only the event's own form is checked, not completed
    :raises ValidationError: one problem per field (the field's name; ``""`` for the whole)
    """
    schema = form if by_event else complete(key, form, ui)[0]
    if schema is None:
        return
    try:
        validate_form_data(schema, data)
    except ValidationError as exc:
        raise ValidationError(f"the start data of {key} does not fit its start form", exc.problems) from None
