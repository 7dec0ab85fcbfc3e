"""Sandbox processes: where scripts that are not provably bounded run.

A small pool of child processes (:mod:`engine.sandbox_child`, started with
``subprocess``: fork and exec at once, never a bare fork of the threaded web process),
each under an address-space limit (``resource.RLIMIT_AS``) with a CPU-time backstop
(``RLIMIT_CPU``). A thread checks a child out, sends it one request and waits for the
answer at most the script's time budget plus :data:`MARGIN_SECONDS`; a child that
overruns is killed and replaced. Children start when first needed and are reused.

Requests and answers are pickles in length-prefixed frames over the child's stdin
and stdout. Answers are unpickled with an allowlist of data types, so even a child
that a script had taken over could not make this process run code.
"""

from __future__ import annotations

import atexit
import io
import math
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time

from .errors import ScriptError

MEMORY_MB = 256  # default of SEK_SCRIPT_MEMORY_MB
POOL_SIZE = 4  # children per process at most; more threads wait for one
MARGIN_SECONDS = 0.5  # beyond the script's time budget, before the child is killed
RESULT_MB = 16  # how much more data a script may hand back than it was given
START_SECONDS = 30

_HEADER = struct.Struct("!Q")
_BOOT = ("import sys; sys.path[:] = sys.argv[2:]; "
         "from engine.sandbox_child import main; main(int(sys.argv[1]))")

# The types task data is made of; nothing else is unpickled from a child.
_DATA_CLASSES = {
    ("builtins", "bytearray"), ("builtins", "complex"), ("builtins", "frozenset"), ("builtins", "range"),
    ("builtins", "set"), ("builtins", "slice"), ("collections", "OrderedDict"), ("decimal", "Decimal"),
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta"),
    ("datetime", "timezone"),
}


class _Settings:
    memory_mb = MEMORY_MB


def configure(memory_mb: int | str | None) -> None:
    """Set the memory one script may use (``SEK_SCRIPT_MEMORY_MB``; empty: the default);
    children started with another limit are replaced.

    :raises ValueError: not a whole number of MB, or less than 32
    """
    try:
        value = MEMORY_MB if memory_mb in (None, "") else int(memory_mb)
    except ValueError:
        raise ValueError(f"SEK_SCRIPT_MEMORY_MB={memory_mb!r} is not a whole number of MB") from None
    if value < 32:
        raise ValueError(f"SEK_SCRIPT_MEMORY_MB={memory_mb}: a script needs at least 32 MB")
    _Settings.memory_mb = value


def write_frame(fd: int, payload: bytes) -> None:
    """Write one length-prefixed frame to a pipe."""
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data):]


def read_frame(fd: int) -> bytes | None:
    """Read one frame from a pipe, waiting as long as it takes; ``None`` at end of file."""
    header = _read_exact(fd, _HEADER.size)
    return None if header is None else _read_exact(fd, _HEADER.unpack(header)[0])


def _read_exact(fd: int, size: int) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = os.read(fd, min(size - len(buffer), 1 << 20))
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _DATA_CLASSES:
            raise pickle.UnpicklingError(f"{module}.{name}")
        return super().find_class(module, name)


class _Stopped(Exception):
    """The child overran, died or answered too much; it has been killed."""


class _Child:
    """One sandbox process and the pipes to it."""

    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(memory_mb), *sys.path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        self.poller = select.poll()
        self.poller.register(self.process.stdout.fileno(), select.POLLIN)
        try:
            ready = self._read(time.monotonic() + START_SECONDS, 64)
        except _Stopped:
            ready = None
        if ready != b"ready":
            self.stop()
            raise ScriptError("script not run: a sandbox process did not start")

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, payload: bytes, seconds: float, limit: int) -> bytes:
        """Send a request; the answer, within ``seconds`` and ``limit`` bytes.

        :raises _Stopped: (the child has been killed) with ``args[0]`` saying why.
        """
        try:
            write_frame(self.process.stdin.fileno(), payload)
        except OSError:
            self._ended()
            raise _Stopped("ended") from None
        return self._read(time.monotonic() + seconds, limit)

    def _read(self, deadline: float, limit: int) -> bytes:
        header = self._read_exact(_HEADER.size, deadline)
        size = _HEADER.unpack(header)[0]
        if size > limit:
            self.kill()
            raise _Stopped("too much")
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        fd = self.process.stdout.fileno()
        buffer = bytearray()
        while len(buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not self.poller.poll(math.ceil(left * 1000)):
                self.kill()
                raise _Stopped("overran")
            chunk = os.read(fd, min(size - len(buffer), 1 << 20))
            if not chunk:
                self._ended()
                raise _Stopped("ended")
            buffer += chunk
        return bytes(buffer)

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self._close()

    def _ended(self) -> None:
        # Its output closed: it is exiting; let it finish, so that its exit status says why.
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._close()

    def stop(self) -> None:
        """Let an idle child end by itself (end of its input), or kill it after a second."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self._close()

    def _close(self) -> None:
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def ended_by(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            return signal.Signals(-code).name
        return f"exit code {code}"


class _Pool:
    """The children of one process: idle ones, and how many exist."""

    def __init__(self, memory_mb: int, size: int):
        self.pid = os.getpid()
        self.memory_mb = memory_mb
        self.size = size
        self.idle: list[_Child] = []
        self.count = 0
        self.ready = threading.Condition()

    def checkout(self) -> _Child:
        with self.ready:
            while True:
                while self.idle:
                    child = self.idle.pop()
                    if child.alive():
                        return child
                    self.count -= 1
                if self.count < self.size:
                    self.count += 1
                    break
                self.ready.wait()
        try:
            return _Child(self.memory_mb)
        except BaseException:
            self.checkin(None)
            raise

    def checkin(self, child: _Child | None) -> None:
        """Give a child back, or ``None`` for one that is gone."""
        with self.ready:
            if child is not None and child.memory_mb == _Settings.memory_mb:
                self.idle.append(child)
                child = None
            else:
                self.count -= 1
            self.ready.notify()
        if child is not None:
            child.stop()

    def close(self) -> None:
        with self.ready:
            idle, self.idle = self.idle, []
            self.count -= len(idle)
        for child in idle:
            child.stop()


class _Current:
    pool: _Pool | None = None
    lock = threading.Lock()


def _pool() -> _Pool:
    with _Current.lock:
        pool = _Current.pool
        if pool is None or pool.pid != os.getpid():
            # A forked copy of another process's pool is not ours to use (nor to kill).
            if pool is None:
                atexit.register(_close)
            pool = _Current.pool = _Pool(_Settings.memory_mb, POOL_SIZE)
        elif pool.memory_mb != _Settings.memory_mb:
            pool.close()
            pool.memory_mb = _Settings.memory_mb
        return pool


def _close() -> None:
    pool = _Current.pool
    if pool is not None and pool.pid == os.getpid():
        pool.close()


def run(request: tuple, max_seconds: float):
    """Run a request (see :mod:`engine.sandbox_child`) in a sandbox process.

    :returns: what the script gave back: the value of an expression, or the task data
        after a script.
    :raises ScriptError: the script failed, was refused, overran its time or memory, or
        its data cannot pass between the processes.
    """
    try:
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise ScriptError(f"script not run: its data or helpers cannot be sent to a sandbox process "
                          f"({type(exc).__name__}: {exc})") from None
    pool = _pool()
    child = pool.checkout()
    try:
        answer = child.call(payload, max_seconds + MARGIN_SECONDS, RESULT_MB * 2**20 + len(payload))
    except _Stopped as stop:
        pool.checkin(None)
        raise ScriptError(_stop_message(stop.args[0], child, max_seconds)) from None
    except BaseException:
        child.kill()
        pool.checkin(None)
        raise
    try:
        outcome, value, retire = _DataUnpickler(io.BytesIO(answer)).load()
    except Exception as exc:
        child.kill()
        pool.checkin(None)
        raise ScriptError(f"script result holds something that is not data ({exc})") from None
    if retire:  # after a MemoryError: start afresh
        child.stop()
        pool.checkin(None)
    else:
        pool.checkin(child)
    if outcome != "ok":
        raise ScriptError(value)
    return value


def _stop_message(why: str, child: _Child, max_seconds: float) -> str:
    if why == "overran" or child.ended_by() == "SIGXCPU":
        return f"script stopped: ran longer than {max_seconds:g} seconds"
    if why == "too much":
        return f"script stopped: its data grew by more than {RESULT_MB} MB"
    return f"script stopped: its sandbox process ended ({child.ended_by()})"
