"""A function's result computed by a forked process while this one goes on: on a second core, a
render does what needs nothing of its other work (reading the catalog, walking the output folder,
running the catalog's rules) beside it.

The child sends its result pickled on a pipe and ends without running this process's exit
handlers or flushing its buffers.  Whatever goes wrong there (an exception, a child killed), the
result is computed here instead: the same value, or the same exception with its traceback.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import signal
import struct
import sys
from typing import IO, Callable, Generic, Iterator, Self, TypeVar

T = TypeVar("T")

# A fork copies this process's memory lazily; macOS's system libraries refuse to run in a forked child.
FORKS = hasattr(os, "fork") and sys.platform != "darwin"


# A pipe of 1 MiB (Linux's limit for any user), not 64 KiB: a child's pickle of 4 MB is read in
# fewer turns of the two processes, and more of it is sent before this one asks for it.
PIPE_SIZE = 1 << 20


def _widen(pipe: int) -> None:
    try:
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (AttributeError, OSError):  # not Linux, or a lower limit: the system's size
        pass


def _spawn(send: Callable[[IO[bytes]], None]) -> tuple[int, int] | None:
    """A forked child that runs ``send`` on the write end of a pipe, then ends (at once, without
    this process's exit handlers); the child and the read end, or None where none can be forked."""
    if not FORKS:
        return None
    try:
        read, write = os.pipe()
    except OSError:  # no descriptors left ...
        return None
    _widen(write)
    try:
        pid = os.fork()
    except OSError:  # no process left ...
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as pipe:
                send(pipe)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


class _Parent:
    """Holds at most one child; close it (``with``) so that no child outlives the command."""

    _child: tuple[int, int] | None = None  # the process, and the pipe it sends on

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child (if it still runs) and wait for it."""
        if self._child is not None:
            (pid, read), self._child = self._child, None
            os.close(read)
            try:
                os.kill(pid, signal.SIGKILL)  # done or not: nothing of it is wanted any more
            except ProcessLookupError:  # pragma: no cover - a child is a zombie until waited for
                pass
            os.waitpid(pid, 0)


class Forked(_Parent, Generic[T]):
    """``func()``, computed in a forked process (where processes fork, and ``fork`` is true), or
    here: at once without ``fork``, else when asked for.  Close it (``with``) so that no child
    outlives the command."""

    def __init__(self, func: Callable[[], T], fork: bool = True, fallback: Callable[[], T] | None = None) -> None:
        """``fallback``: what computes the same value here, should a child send nothing; kept instead
        of ``func`` once a child runs it (``func`` may hold what only the child needs: memory)."""
        self._func = func
        self._done: tuple[T] | None = None if fork else (func(),)
        if not fork:
            return
        # Sent as it is pickled (no second copy of a large result); one cut short (pickling
        # failed, or the child was killed) is refused by unpickling.  Without a child, computed
        # here when asked for.
        self._child = _spawn(lambda pipe: pickle.dump(func(), pipe, protocol=pickle.HIGHEST_PROTOCOL))
        if self._child is not None and fallback is not None:
            self._func = fallback

    def result(self) -> T:
        """The child's result; computed here if it sent none."""
        if self._done is not None:
            return self._done[0]
        if self._child is not None:
            try:
                with os.fdopen(self._child[1], "rb", closefd=False) as pipe:
                    return pickle.load(pipe)  # our own child's; read as it is unpickled (memory)
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError):  # cut short: killed
                pass
            finally:
                self.close()
        return self._func()


_LENGTH = struct.Struct("<Q")


class Staged(_Parent, Generic[T]):
    """The values a generator yields, taken one after another: made here, or, once ``fork`` is
    called, by a forked process that goes on from where the generator stands (its values sent as
    each is made).  What a child does not send (an exception, a child killed) is made here: the
    generator, as this process holds it, is run again up to that value, so it must make the same
    values each time (a pure function of what it holds).  Close it (``with``) so that no child
    outlives the command."""

    def __init__(self, stages: Iterator[T]) -> None:
        self._stages = stages
        self._taken = 0  # values taken, from the child or from here
        self._made = 0  # values the generator made here

    @property
    def forked(self) -> bool:
        return self._child is not None

    def fork(self) -> None:
        """Make the values still to come in a forked process (where processes fork)."""
        if self._child is None:
            self._child = _spawn(self._send)

    def _send(self, pipe: IO[bytes]) -> None:
        for value in self._stages:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.write(_LENGTH.pack(len(data)) + data)  # (a length first: a value cut short is known)
            pipe.flush()

    def take(self) -> T:
        """The next value; made here if the child sent none."""
        if self._child is not None:
            try:
                data = self._read(_LENGTH.unpack(self._read(_LENGTH.size))[0])
                value: T = pickle.loads(data)  # our own child's
                self._taken += 1
                return value
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError, IndexError, struct.error):
                self.close()  # killed, or failed: what it did not send is made here
        while self._made < self._taken:  # the child made these: this generator stands before them
            next(self._stages)
            self._made += 1
        value = next(self._stages)
        self._made += 1
        self._taken += 1
        return value

    def _read(self, size: int) -> bytes:
        assert self._child is not None
        parts, left = [], size
        while left:
            part = os.read(self._child[1], min(left, PIPE_SIZE))
            if not part:
                raise EOFError("the child sent less")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)
