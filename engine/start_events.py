"""A process's start events: which messages start it, and starting it at one of them.

A process may have a none start event (the portal, staff pages, the API start there) and
message start events (``<bpmn:startEvent>`` with a ``messageEventDefinition``) that a
message sent to SEK starts (:func:`engine.runtime.start_by_message`, a webhook). SpiffWorkflow
joins several start events so that the first to fire wins and cancels the others; a normal
start lets the none start event fire at once. :func:`begin_at` makes a new workflow start at
a chosen start event instead: it runs the workflow up to its start events, cancels every
other one, and fires the chosen one (its branch then runs, the none start's never does).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from .errors import WorkflowError

_STARTED = TaskState.READY | TaskState.WAITING | TaskState.COMPLETED | TaskState.CANCELLED


def start_event_specs(spec) -> list:
    """The start event task specs of a process (top level only)."""
    return [t for t in spec.task_specs.values() if isinstance(t, StartEvent)]


def message_starts(spec) -> dict[str, str]:
    """Message name -> the bpmn id of the start event it starts the process at."""
    found = {}
    for task_spec in start_event_specs(spec):
        definition = task_spec.event_definition
        if isinstance(definition, MessageEventDefinition) and definition.name:
            found.setdefault(definition.name, task_spec.bpmn_id)
    return found


def form_files(spec, bpmn_id: str) -> tuple[str | None, str | None]:
    """The form and UI schema files named on start event ``bpmn_id``, if any."""
    for task_spec in start_event_specs(spec):
        if task_spec.bpmn_id == bpmn_id:
            extensions = getattr(task_spec, "extensions", None) or {}
            return extensions.get("formJsonSchemaFilename"), extensions.get("formUiSchemaFilename")
    return None, None


def begin_at(workflow, bpmn_id: str) -> None:
    """Make a fresh workflow start at start event ``bpmn_id``: the others are cancelled.

    Call it before the first :meth:`do_engine_steps`, after the start data is set.

    :raises WorkflowError: the process has no such start event
    """
    while True:
        starts = [t for t in workflow.get_tasks() if isinstance(t.task_spec, StartEvent)]
        if all(t.has_state(_STARTED) for t in starts):
            break
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if not isinstance(t.task_spec, StartEvent)]
        if not ready:
            break
        for task in ready:
            task.run()
    chosen = [t for t in starts if t.task_spec.bpmn_id == bpmn_id]
    if not chosen:
        raise WorkflowError(f"the process has no start event {bpmn_id!r}")
    for task in starts:
        if task.task_spec.bpmn_id != bpmn_id and not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()
    task = chosen[0]
    if task.state == TaskState.WAITING:
        task._set_internal_data(event_fired=True)
        task.task_spec._update(task)
