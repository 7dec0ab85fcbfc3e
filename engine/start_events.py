"""A process's start events, and starting a new workflow at one of them: one rule for every door.

A process may have one none start event (the portal, staff pages, the API, the CLI and a
linked request start there), message start events (``<bpmn:startEvent>`` with a
``messageEventDefinition``: :func:`engine.runtime.start_by_message`, a webhook) and timer
start events with a cycle (:mod:`engine.recurring`). SpiffWorkflow would wait at all of them
and let the first to fire win; SEK starts an instance at exactly one: :func:`choose` cancels
the others before the first engine step, and fires the chosen event at once when it is not
the none start event (a recurring start does not wait for its own cycle, a message start
does not wait for the message that started it).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState


def start_event_specs(spec) -> list:
    """The start event task specs of a process (top level only)."""
    return [t for t in spec.task_specs.values() if isinstance(t, StartEvent) and t.bpmn_id]


def kinds(spec) -> dict[str, str]:
    """The start events of a process: BPMN id -> ``"none"``, ``"timer"``, ``"cycle"`` (a timer
    with a ``timeCycle``), ``"message"`` or another event kind."""
    found = {}
    for task_spec in start_event_specs(spec):
        definition = task_spec.event_definition
        if isinstance(definition, NoneEventDefinition):
            kind = "none"
        elif isinstance(definition, CycleTimerEventDefinition):
            kind = "cycle"
        elif isinstance(definition, TimerEventDefinition):
            kind = "timer"
        else:
            kind = type(definition).__name__.removesuffix("EventDefinition").lower()
        found[task_spec.bpmn_id] = kind
    return found


def message_starts(spec) -> dict[str, str]:
    """Message name -> the bpmn id of the start event it starts the process at."""
    found = {}
    for task_spec in start_event_specs(spec):
        definition = task_spec.event_definition
        if isinstance(definition, MessageEventDefinition) and definition.name:
            found.setdefault(definition.name, task_spec.bpmn_id)
    return found


def form_files(spec, bpmn_id: str | None = None) -> tuple[str | None, str | None]:
    """The form and UI schema files named on start event ``bpmn_id`` (``None``: the none start
    event, whose form is what people start the process with), if any."""
    if bpmn_id is None:
        bpmn_id = next((name for name, kind in kinds(spec).items() if kind == "none"), None)
    for task_spec in start_event_specs(spec):
        if task_spec.bpmn_id == bpmn_id:
            extensions = getattr(task_spec, "extensions", None) or {}
            return extensions.get("formJsonSchemaFilename"), extensions.get("formUiSchemaFilename")
    return None, None


def choose(workflow, bpmn_id: str | None) -> None:
    """Make a fresh workflow start at one start event only; call it before the first engine step.

    ``None`` is the none start event: a process that also has timer or message start events
    does not run or wait at those in this instance. A process without a none start event
    starts as SpiffWorkflow starts it (its start events wait). A timer or message start event
    given by id starts as if its event had just happened.
    """
    found = kinds(workflow.spec)
    if bpmn_id is None:
        bpmn_id = next((name for name, kind in found.items() if kind == "none"), None)
        if bpmn_id is None or len(found) == 1:
            return  # as before: one start event, or only event start events
    for task in workflow.get_tasks(state=TaskState.READY):
        if task.task_spec is workflow.spec.start:
            task.run()  # the start task: creates the start events (and their split)
    for task in workflow.get_tasks(state=TaskState.PREDICTED_MASK | TaskState.READY):
        spec = task.task_spec
        if not isinstance(spec, StartEvent) or task.workflow is not workflow:
            continue
        if spec.bpmn_id != bpmn_id:
            task.cancel()
        elif found.get(bpmn_id) != "none":
            task._set_internal_data(event_fired=True)
            if found[bpmn_id] == "cycle":
                # Spiff adds a cycle timer's children as each cycle passes; here it passed once.
                task._sync_children(spec.outputs, task.state)
