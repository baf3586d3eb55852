"""A function's result computed by a forked process while this one goes on: on a second core, a
render does what needs nothing of its other work (reading the catalog, walking the output folder,
running the catalog's rules) beside it.

The child sends its result pickled on a pipe and ends without running this process's exit
handlers or flushing its buffers (or, asked to serve, answers requests with what computing the
result left it, until it is closed: a renderer creates the files it rendered).  Whatever goes
wrong there (an exception, a child killed), the result is computed here instead: the same value,
or the same exception with its traceback; an answer the child does not send is the caller's to
make.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import signal
import struct
import sys
from typing import IO, Any, Callable, Generic, Iterator, Self, TypeVar

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


def _spawn(send: Callable[[IO[bytes], int], None], requests: bool = False) -> tuple[int, int, int | None] | None:
    """A forked child that runs ``send`` on the write end of a pipe (and, with ``requests``, the
    read end of a pipe it is asked on; else -1), then ends (at once, without this process's exit
    handlers); the child, the read end, and the end to ask on, or None where none can be forked."""
    if not FORKS:
        return None
    try:
        read, write = os.pipe()
    except OSError:  # no descriptors left ...
        return None
    try:
        asked, ask = os.pipe() if requests else (-1, -1)
    except OSError:
        os.close(read)
        os.close(write)
        return None
    _widen(write)
    try:
        pid = os.fork()
    except OSError:  # no process left ...
        for end in (read, write, asked, ask):
            if end >= 0:
                os.close(end)
        return None
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read)
            if requests:
                os.close(ask)
            with os.fdopen(write, "wb") as pipe:
                send(pipe, asked)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    if requests:
        os.close(asked)
    return pid, read, ask if requests else None


class _Parent:
    """Holds at most one child; close it (``with``) so that no child outlives the command."""

    _child: tuple[int, int, int | None] | None = None  # the process, the pipe it sends on, the one it is asked on

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child (if it still runs) and wait for it."""
        if self._child is not None:
            (pid, read, ask), self._child = self._child, None
            os.close(read)
            if ask is not None:
                os.close(ask)
            try:
                os.kill(pid, signal.SIGKILL)  # done or not: nothing of it is wanted any more
            except ProcessLookupError:  # pragma: no cover - a child is a zombie until waited for
                pass
            os.waitpid(pid, 0)


class Forked(_Parent, Generic[T]):
    """``func()``, computed in a forked process (where processes fork, and ``fork`` is true), or
    here: at once without ``fork``, else when asked for.  Close it (``with``) so that no child
    outlives the command."""

    def __init__(self, func: Callable[[], T], fork: bool = True, fallback: Callable[[], T] | None = None,
                 serve: Callable[[Any], Any] | None = None) -> None:
        """``fallback``: what computes the same value here, should a child send nothing; kept instead
        of ``func`` once a child runs it (``func`` may hold what only the child needs: memory).
        ``serve``: what the child answers each request (``ask``) with, once it has sent the value;
        it waits for them until it is closed (and holds what ``func`` left it meanwhile)."""
        self._func = func
        self._done: tuple[T] | None = None if fork else (func(),)
        self._serving = serve is not None
        if not fork:
            return
        # Sent as it is pickled (no second copy of a large result); one cut short (pickling
        # failed, or the child was killed) is refused by unpickling.  Without a child, computed
        # here when asked for.
        self._child = _spawn(lambda pipe, asked: _send(func, serve, pipe, asked), requests=self._serving)
        if self._child is not None and fallback is not None:
            self._func = fallback

    def result(self) -> T:
        """The child's result; computed here if it sent none.  A child that serves goes on."""
        if self._done is not None:
            return self._done[0]
        if self._child is not None:
            try:
                with os.fdopen(self._child[1], "rb", closefd=False) as pipe:
                    value: T = pickle.load(pipe)  # our own child's; read as it is unpickled (memory)
                if not self._serving:
                    self.close()
                return value
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError):  # cut short: killed
                self.close()
        return self._func()

    @property
    def serving(self) -> bool:
        """A child that sent its value waits for requests."""
        return self._serving and self._child is not None

    def ask(self, request: Any) -> bool:
        """Send ``request`` to the serving child (``answer`` reads its answer); False, and the
        child stopped, where it cannot be sent."""
        if not self.serving:
            return False
        assert self._child is not None and self._child[2] is not None
        try:
            write_all(self._child[2], _framed(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)))
            return True
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            self.close()
            return False

    def answer(self) -> tuple[bool, Any]:
        """(True, the child's answer to what it was asked), or (False, None) where it sent none
        (it failed, or was killed: it is stopped)."""
        if self._child is not None:
            try:
                return True, pickle.loads(_read_framed(self._child[1]))  # our own child's
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError, IndexError, struct.error):
                self.close()
        return False, None


def _send(func: Callable[[], Any], serve: Callable[[Any], Any] | None, pipe: IO[bytes], asked: int) -> None:
    """A forked child's part: ``func()``'s value, then (``serve``) an answer to each request on
    ``asked`` until the parent closes it."""
    pickle.dump(func(), pipe, protocol=pickle.HIGHEST_PROTOCOL)
    if serve is None:
        return
    pipe.flush()
    while True:
        try:
            request = pickle.loads(_read_framed(asked))
        except EOFError:  # closed: no more requests
            return
        pipe.write(_framed(pickle.dumps(serve(request), protocol=pickle.HIGHEST_PROTOCOL)))
        pipe.flush()


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

    def _send(self, pipe: IO[bytes], _: int) -> None:
        for value in self._stages:
            pipe.write(_framed(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))
            pipe.flush()

    def take(self) -> T:
        """The next value; made here if the child sent none."""
        if self._child is not None:
            try:
                value: T = pickle.loads(_read_framed(self._child[1]))  # our own child's
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



def _framed(data: bytes) -> bytes:
    """A value's bytes with their length first: a value cut short is known."""
    return _LENGTH.pack(len(data)) + data


def _read_framed(pipe: int) -> bytes:
    return _read_exactly(pipe, _LENGTH.unpack(_read_exactly(pipe, _LENGTH.size))[0])


def _read_exactly(pipe: int, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = os.read(pipe, min(left, PIPE_SIZE))
        if not part:
            raise EOFError("the other process sent less")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to the descriptor: one write, but for a signal, a full disk or a full pipe."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view):]
