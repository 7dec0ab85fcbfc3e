"""Restricted Python for BPMN scripts, conditions, timer and ``candidateGroups`` expressions.

Code is compiled with RestrictedPython (no imports, no names or attributes starting
with ``_``, no ``exec``/``eval``, no classes) and runs with guarded attribute, item
and write access and a small allowlist of builtins: ``datetime``, ``date``,
``timedelta`` and ``timezone`` (the classes, as after ``from datetime import ...``),
``Decimal``, read-only ``math``, ``re`` and ``json`` namespaces and the engine's
own helpers. Every failure, refusal or breach surfaces as
:class:`engine.errors.ScriptError`.

Every run is bounded in time and memory, whatever it calls:

- code that :mod:`engine.sandbox_static` proves bounded by its text, over small
  inputs (most conditions, decision table cells, timer expressions, one-line
  assignments), runs here, in the calling process;
- everything else runs in a sandbox process (:mod:`engine.sandbox_pool`) under a
  memory limit (``SEK_SCRIPT_MEMORY_MB``) and the step and time budget: a tracer
  stops runaway Python loops, and the process is killed when C-level work
  (``10**10**8``, a backtracking regex) overruns the time.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import math
import operator
import re
import sys
import time
import types
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import Decimal

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import ScriptError

from . import clock, sandbox_pool, sandbox_static, workdays
from .clock import ScriptDatetime

# The tracer counts only frames compiled under this name (module code, functions,
# lambdas and comprehensions of the script), never the engine's own code.
_FILENAME = "<bpmn script>"

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "@=": operator.imatmul,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior,
    "^=": operator.ixor,
}

# Class bodies are refused by the policy; the BaseException family is left out so a
# script cannot raise something that slips past ``except Exception`` in the engine.
_LEFT_OUT = {"__build_class__", "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}
_MORE_BUILTINS = "all any dict enumerate filter frozenset list map max min reversed set sorted sum tuple zip"


def _namespace(module: types.ModuleType, names: list[str]) -> types.SimpleNamespace:
    # A namespace rather than the module: modules reach other modules (json.codecs.open,
    # re.enum.sys), a namespace holds only what is listed, and _write_ keeps it read-only.
    return types.SimpleNamespace(**{name: getattr(module, name) for name in names})


_BUILTINS = {
    **{name: value for name, value in safe_builtins.items() if name not in _LEFT_OUT},
    **{name: getattr(builtins, name) for name in _MORE_BUILTINS.split()},
    "datetime": ScriptDatetime, "date": date, "timedelta": timedelta, "timezone": timezone,
    "Decimal": Decimal,
    "math": _namespace(math, [name for name in dir(math) if not name.startswith("_")]),
    "re": _namespace(re, ["compile", "escape", "findall", "finditer", "fullmatch", "match", "search",
                          "split", "sub", "subn", "A", "ASCII", "I", "IGNORECASE", "M",
                          "MULTILINE", "S", "DOTALL", "X", "VERBOSE"]),
    "json": _namespace(json, ["dumps", "loads", "JSONDecodeError"]),
    # Guards that RestrictedPython's compiled code calls instead of plain operations.
    "_getattr_": safer_getattr_raise,
    "_getitem_": lambda obj, key: obj[key],
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": lambda op, target, value: _INPLACE[op](target, value),
    "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
    "_print_": PrintCollector,
    # Not reachable from script text (RestrictedPython refuses import statements and
    # names starting with "_"); C code such as date.strftime imports "time" through it.
    "__import__": lambda name, *args, **kwargs: _internal_import(name, *args, **kwargs),
}


def _internal_import(name: str, *args, **kwargs):
    if name not in _INTERNAL_IMPORTS:
        raise ImportError(f"importing {name!r} is not allowed in a BPMN script")
    return builtins.__import__(name, *args, **kwargs)


# What the allowed types import for themselves (strftime, strptime), and nothing else.
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})

_NOT_DATA = (types.ModuleType, types.SimpleNamespace, types.GeneratorType)

# Engine helpers whose cost is bounded by their arguments (working_days caps its days).
_BOUNDED_HELPERS = (workdays.working_days, workdays.is_working_day_text)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy without imports or classes, with budget checks added.

    Python switches the tracer off as soon as it raises, so a script that catches the
    stop (or has a ``finally``) would carry on untraced; checking again at the top of
    each ``except`` and ``finally`` block makes the stop stick.
    """

    def visit_ClassDef(self, node):
        self.not_allowed(node)

    def visit_Import(self, node):
        # RestrictedPython would defer to a guarded __import__; we offer none at all.
        self.error(node, "import statements are not allowed.")

    visit_ImportFrom = visit_Import

    def visit_While(self, node):
        # `while True: pass` jumps to itself and never raises a 'line' event; a call in
        # the body gives the tracer one per turn.
        node = super().visit_While(node)
        node.body.insert(0, _budget_check(node.body[0]))
        return node

    def visit_ExceptHandler(self, node):
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, _budget_check(node))
        return node

    def visit_Try(self, node):
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, _budget_check(node.finalbody[0]))
        return node


def _budget_check(where: ast.AST) -> ast.stmt:
    call = ast.Expr(ast.Call(ast.Name("_check_budget_", ast.Load()), [], []))
    for node in ast.walk(call):
        ast.copy_location(node, where)
    return call


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> types.CodeType:
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, filename=_FILENAME, policy=_Policy)
    if result.errors:
        raise ScriptError("; ".join(result.errors))
    return result.code


@dataclass(frozen=True)
class _Plan:
    """How to run one script or expression."""

    code: types.CodeType
    bounded: bool  # proved bounded by its text (sandbox_static)
    reads: frozenset[str]  # the names it reads, when bounded
    names: frozenset[str]  # every name its code uses: what a sandbox process must be given


@functools.lru_cache(maxsize=1024)
def _plan(source: str, mode: str, calls: frozenset[str]) -> _Plan:
    code = _compile(source, mode)
    tree = ast.parse(source, mode=mode)
    bounded = sandbox_static.is_bounded(tree, calls)
    return _Plan(code, bounded, sandbox_static.reads(tree) if bounded else frozenset(), _code_names(code))


def _code_names(code: types.CodeType) -> frozenset[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # functions, lambdas, comprehensions
            names |= _code_names(const)
    return frozenset(names)


def check_script(source: str) -> None:
    """Refuse a script the sandbox would not run.

    :param source: the script text of a script task.
    :raises ScriptError: with the line number, if it does not compile or is refused.
    """
    _compile(source, "exec")


def check_expression(source: str) -> None:
    """Refuse an expression (condition, timer, ``candidateGroups``) the sandbox would not run.

    :param source: the expression text.
    :raises ScriptError: with the line number, if it does not compile or is refused.
    """
    _compile(source.strip(), "eval")


class _Budget:
    """Steps and time left to one run; its ``trace`` is installed for the run only."""

    def __init__(self, max_steps: int, max_seconds: float):
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.steps = 0
        self.deadline = time.monotonic() + max_seconds
        self.stopped: str | None = None
        self.finished = False

    def __enter__(self) -> _Budget:
        self.previous = sys.gettrace()
        sys.settrace(self.trace)
        return self

    def __exit__(self, *exc_info) -> None:
        sys.settrace(self.previous)
        self.finished = True

    def trace(self, frame, event, arg):
        return self._count if frame.f_code.co_filename == _FILENAME else None

    def _count(self, frame, event, arg):
        if event == "line":
            self.steps += 1
            if self.steps > self.max_steps:
                self.stopped = f"script stopped: took more than {self.max_steps} steps"
            elif time.monotonic() > self.deadline:
                self.stopped = f"script stopped: ran longer than {self.max_seconds:g} seconds"
            if self.stopped:
                raise ScriptError(self.stopped)
        return self._count

    def check(self) -> None:
        # Called at the top of every except/finally block of the script (see _Policy).
        if self.finished or sys.gettrace() != self.trace:
            raise ScriptError(self.stopped or "script stopped: code ran outside its step limit")


def _script_error(err: BaseException, memory_mb: int | None = None) -> ScriptError:
    if isinstance(err, MemoryError) and memory_mb:
        detail = f"script stopped: used more than {memory_mb} MB"
    else:
        detail = err.message if isinstance(err, ScriptError) else type(err).__name__
        if not isinstance(err, ScriptError) and str(err):
            detail += f": {err}"
    line, tb = None, err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return ScriptError(f"{detail} (line {line})" if line else detail)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs task code under RestrictedPython.

    Same semantics as SpiffWorkflow's ``TaskDataEnvironment``: ``evaluate`` returns
    the value of an expression over the task data, ``execute`` runs a script with the
    task data as its variables and leaves only data behind. Code proved bounded runs
    in this process; the rest in a sandbox process, which gets the data and the
    helpers the code names (module-level functions: they are pickled by name), the
    budget and the engine clock's shift.

    :param helpers: extra engine functions offered to scripts by name.
    :param max_steps: lines of script code one run may execute.
    :param max_seconds: wall-clock time one run may take.
    :param memory_mb: the memory limit of this process, if it is a sandbox process
        (names the limit in the error when a script runs out).
    """

    def __init__(self, helpers: dict | None = None, max_steps: int = 100_000, max_seconds: float = 2.0,
                 memory_mb: int | None = None):
        super().__init__(dict(helpers or {}))
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.memory_mb = memory_mb
        self._builtins = {**_BUILTINS, **self.globals, "range": self._range}
        self._calls = frozenset(
            {name for name in sandbox_static.BOUNDED_CALLS if name not in self.globals}
            | {name for name, func in self.globals.items() if any(func is h for h in _BOUNDED_HELPERS)})

    def evaluate(self, expression, context, external_context=None):
        """Return the value of ``expression`` over the task data ``context``."""
        source = expression.strip()
        plan = _plan(source, "eval", self._calls)
        scope = {**(external_context or {}), **context}
        if plan.bounded and sandbox_static.small_inputs(scope, plan.reads):
            return self._run(plan.code, scope, traced=False)
        needed = {name: scope[name] for name in plan.names if name in scope}
        return self._in_sandbox_process("eval", source, needed, {}, plan.names)

    def execute(self, script, context, external_context=None):
        """Run ``script`` with the task data ``context`` as its variables, updating it in place."""
        external_context = external_context or {}
        self._refuse_hidden(context, external_context)
        plan = _plan(script, "exec", self._calls)
        scope = {**external_context, **context} if external_context else context
        if plan.bounded and sandbox_static.small_inputs(scope, plan.reads):
            self._execute_here(plan.code, context, external_context, traced=False)
        else:
            result = self._in_sandbox_process("exec", script, context, external_context, plan.names)
            context.clear()
            context.update(result)
        return True

    def evaluate_in_process(self, expression, context, external_context=None):
        """:meth:`evaluate` in this process, under the step and time budget only: no memory
        limit, C-level work not stopped. For the sandbox process itself and for benchmarks."""
        return self._run(_compile(expression.strip(), "eval"), {**(external_context or {}), **context})

    def execute_in_process(self, script, context, external_context=None):
        """:meth:`execute` in this process, under the step and time budget only (see
        :meth:`evaluate_in_process`)."""
        external_context = external_context or {}
        self._refuse_hidden(context, external_context)
        self._execute_here(_compile(script, "exec"), context, external_context, traced=True)
        return True

    def _refuse_hidden(self, context: dict, external_context: dict) -> None:
        hidden = (set(self.globals) | set(external_context)) & set(context)
        if hidden:
            # Spiff's rule: fail fast rather than let data hide a function scripts call.
            raise ScriptError(f"task data hides engine functions, rename: {', '.join(sorted(hidden))}")

    def _execute_here(self, code: types.CodeType, context: dict, external_context: dict, traced: bool) -> None:
        context.update(external_context)
        try:
            self._run(code, context, traced)
        finally:
            for key in list(context):
                value = context[key]
                if (key == "__builtins__" or key in self.globals or key in external_context
                        or callable(value) or isinstance(value, _NOT_DATA)):
                    del context[key]

    def _in_sandbox_process(self, mode: str, source: str, data: dict, external_context: dict, names):
        helpers = {name: self.globals[name] for name in names if name in self.globals}
        settings = (clock.get_shift(), workdays.extra_holidays())
        request = (mode, source, data, external_context, helpers, self.max_steps, self.max_seconds, settings)
        return sandbox_pool.run(request, self.max_seconds)

    def _range(self, *args):
        # sum(range(10**12)) loops in C where the tracer cannot see it.
        numbers = range(*args)
        try:
            too_many = len(numbers) > self.max_steps
        except OverflowError:  # more numbers than a C integer can count
            too_many = True
        if too_many:
            raise ValueError(f"range of more than {self.max_steps} numbers")
        return numbers

    def _run(self, code: types.CodeType, scope: dict, traced: bool = True):
        if not traced:  # proved bounded: no tracer to pay for
            scope["__builtins__"] = self._builtins
            budget = None
        else:
            budget = _Budget(self.max_steps, self.max_seconds)
            scope["__builtins__"] = {**self._builtins, "_check_budget_": budget.check}
        try:
            if budget is None:
                return eval(code, scope)
            with budget:
                return eval(code, scope)  # eval also runs exec-mode code; both are restricted
        except (KeyboardInterrupt, SystemExit):
            raise  # genuine: scripts cannot name these classes
        except BaseException as err:
            raise _script_error(err, self.memory_mb) from err


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine running every script and expression in the sandbox.

    :param helpers, max_steps, max_seconds: as for :class:`SandboxEnvironment`.
    """

    def __init__(self, helpers: dict | None = None, max_steps: int = 100_000, max_seconds: float = 2.0):
        super().__init__(environment=SandboxEnvironment(helpers, max_steps, max_seconds))

    def call_service(self, task, **kwargs):
        """Refuse: SEK's service tasks are queued as jobs, never called inline."""
        raise ScriptError("service tasks run in the worker")
