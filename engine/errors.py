"""Domain errors raised by the engine.

Only the edges translate them: the web app to status codes and pages, the CLI to
exit codes and one-line messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFoundError(EngineError):
    """The instance, task, definition, user or job does not exist."""


class ConflictError(EngineError):
    """Someone else changed the same thing first, or it is no longer open."""


class PermissionDeniedError(EngineError):
    """The acting user may not do this."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a piece of input.

    ``location`` is a form field name, or ``file:element_id`` for definitions.
    """

    location: str
    message: str
    # What kind of problem (a JSON Schema keyword such as ``required``, ``maxLength``)
    # and its parameters, so an edge can word it in the user's language.
    code: str = field(default="", compare=False)
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ValidationError(EngineError):
    """Input was refused; ``problems`` says what is wrong where."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])

    def as_dict(self) -> dict[str, list[str]]:
        """Group the problem messages by location (field name or file:element)."""
        result: dict[str, list[str]] = {}
        for problem in self.problems:
            result.setdefault(problem.location, []).append(problem.message)
        return result

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return "\n".join(str(p) for p in self.problems)


class ScriptError(EngineError):
    """A script, condition or expression failed or was refused by the sandbox."""


class WorkflowError(EngineError):
    """The process itself failed while running (a script error, a bad expression, ...)."""
