"""A function's result computed by a forked process while this one goes on: on a second core, a
render after one edit does what needs nothing of its other work (walking the output folder,
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
import sys
from typing import Callable, Generic, TypeVar

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


class Forked(Generic[T]):
    """``func()``, computed in a forked process (where processes fork, and ``fork`` is true), or
    here: at once without ``fork``, else when asked for.  Close it (``with``) so that no child
    outlives the command."""

    def __init__(self, func: Callable[[], T], fork: bool = True, fallback: Callable[[], T] | None = None) -> None:
        """``fallback``: what computes the same value here, should a child send nothing; kept instead
        of ``func`` once a child runs it (``func`` may hold what only the child needs: memory)."""
        self._func = func
        self._child: tuple[int, int] | None = None  # the process, and the pipe it sends on
        self._done: tuple[T] | None = None if fork else (func(),)
        if not (FORKS and fork):
            return
        try:
            read, write = os.pipe()
        except OSError:  # no descriptors left ...: computed here, when asked for
            return
        _widen(write)
        try:
            pid = os.fork()
        except OSError:  # no process left ...: computed here, when asked for
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child
            code = 1
            try:
                os.close(read)
                result = func()
                with os.fdopen(write, "wb") as pipe:
                    # Sent as it is pickled (no second copy of a large result); one cut short
                    # (pickling failed, or the child was killed) is refused by unpickling.
                    pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._child = (pid, read)
        if fallback is not None:
            self._func = fallback

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def close(self) -> None:
        """Stop the child (if it still runs) and wait for it."""
        if self._child is not None:
            pid, read = self._child
            self._child = None
            os.close(read)
            try:
                os.kill(pid, signal.SIGKILL)  # done or not: nothing of it is wanted any more
            except ProcessLookupError:  # pragma: no cover - a child is a zombie until waited for
                pass
            os.waitpid(pid, 0)
