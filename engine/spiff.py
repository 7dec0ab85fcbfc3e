"""The one place where SEK configures SpiffWorkflow: parser, task specs, serializer.

Service tasks do not run inline: SEK's service task stops in STARTED state and the
engine writes a ``job`` row for it, so a slow or failing service never holds a
request's transaction and is retried by the worker (see :mod:`engine.jobs`).

Instance state is serialized WITHOUT its spec: the spec is stored once per deployed
definition version and passed back in when an instance is restored.
"""

from __future__ import annotations

import sys
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import clock

SERIALIZER_VERSION = "sek-1"


class QueuedServiceTask(ServiceTask):
    """A service task whose call is made later by the worker, not inline.

    Running it leaves the task STARTED; :func:`engine.jobs.run_service_job` calls the
    registered operator and completes the task in its own transaction.
    """

    def _execute(self, my_task):
        return None


class SekBpmnParser(SpiffBpmnParser):
    """Spiff's parser with SEK's queued service tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, QueuedServiceTask),
    }


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its spec; the spec is supplied on restore."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class MemoTaskConverter(TaskConverter):
    """Spiff's task converter, remembering the dict of every finished task.

    A finished task does not change (its data, state and trigger are final; only
    new children can be added), so a long instance's history is converted once,
    not on every save.
    """

    @staticmethod
    def _signature(task):
        return task.state, task.last_state_change, task.triggered, len(task._children)

    def to_dict(self, task):
        memo = getattr(task, "_sek_memo", None)
        signature = self._signature(task)
        if memo is not None and memo[0] == signature:
            return memo[1]
        dct = super().to_dict(task)
        if task.has_state(TaskState.FINISHED_MASK):
            task._sek_memo = (signature, dct)
        return dct

    def from_dict(self, dct, workflow):
        task = super().from_dict(dct, workflow)
        if task.has_state(TaskState.FINISHED_MASK):
            task._sek_memo = (self._signature(task), dct)
        return task


def _build_registry():
    config = dict(SPIFF_CONFIG)
    config[Task] = MemoTaskConverter
    config[QueuedServiceTask] = ServiceTaskConverter
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


def _lift_depth_limit(init) -> None:
    """Set the ``max_depth`` default of a task iterator's ``__init__`` to unlimited.

    SpiffWorkflow stops walking the task tree at depth 1000. A loop adds a few
    levels per pass, so after ~250 passes the ready task, open joins and unfinished
    tasks become invisible and the instance silently "completes". Spiff builds these
    iterators in many places (joins, the end join, ``is_completed``), so the default
    itself is the one place to fix. The iterators walk with a list, not recursion.
    """
    code = init.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = list(init.__defaults__)
    defaults[names.index("max_depth") - (len(names) - len(defaults))] = sys.maxsize
    init.__defaults__ = tuple(defaults)


class _Serializers:
    """Built on first use, never at import time."""

    registry = None

    @classmethod
    def get(cls):
        if cls.registry is None:
            for iterator in (TaskIterator, BpmnTaskIterator):
                _lift_depth_limit(iterator.__init__)
            # Timers ask ``datetime.now``: let them read the engine's clock.
            timer_module.datetime = clock.ShiftedDatetime
            cls.registry = _build_registry()
        return cls.registry


def specs_to_dict(spec, subprocess_specs) -> dict:
    """Serialize a process spec and the specs of its subprocesses/call activities."""
    registry = _Serializers.get()
    return {
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
    }


def specs_from_dict(dct: dict):
    """Restore ``(spec, subprocess_specs)`` from :func:`specs_to_dict` output."""
    registry = _Serializers.get()
    spec = registry.restore(dct["spec"])
    subprocess_specs = {name: registry.restore(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


def workflow_to_dict(workflow) -> dict:
    """Serialize a workflow's state without its spec."""
    registry = _Serializers.get()
    dct = registry.convert(workflow)
    dct["serializer_version"] = SERIALIZER_VERSION
    return dct


def workflow_from_dict(dct: dict, spec, subprocess_specs, script_engine):
    """Restore a workflow from :func:`workflow_to_dict` output and its (cached) spec."""
    registry = _Serializers.get()
    dct = dict(dct)
    dct.pop("serializer_version", None)
    workflow = registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def new_workflow(spec, subprocess_specs, script_engine):
    """Create a fresh workflow for a spec."""
    _Serializers.get()  # SpiffWorkflow configured before anything runs
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
