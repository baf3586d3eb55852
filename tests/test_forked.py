"""A result computed by a forked process: the same value as here, whatever happens to the child,
and no child left behind."""
from __future__ import annotations

import os
import signal
import time
from typing import Iterator

import pytest

from renderer.forked import Forked, Staged


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    forked: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forked.append(pid := fork()) or pid)
    return forked


def test_the_child_computes_and_this_process_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    here = os.getpid()
    with Forked(lambda: (os.getpid(), {"stamps": list(range(500_000))})) as computing:  # more than a pipe holds (1 MiB)
        where, value = computing.result()
    assert where != here and value == {"stamps": list(range(500_000))}
    assert len(forked) == 1 and _gone(forked[0])


def test_what_the_child_cannot_send_is_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    here = os.getpid()

    def fails_in_the_child() -> int:
        if os.getpid() != here:
            raise RuntimeError("only in the child")
        return 42

    with Forked(fails_in_the_child) as computing:
        assert computing.result() == 42
    with Forked(lambda: lambda: 1) as unpicklable:  # a function cannot be pickled
        assert unpicklable.result()() == 1
    with Forked(lambda: 1 // 0) as raising:  # an exception here too: raised here, with its traceback
        with pytest.raises(ZeroDivisionError):
            raising.result()
    assert len(forked) == 3 and all(_gone(pid) for pid in forked)


def test_a_result_cut_short_in_its_pickling_is_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child sends as it pickles: what it sent before pickling failed (more than a pipe holds)
    is refused, and the value computed here."""
    forked = _forks(monkeypatch)
    here = os.getpid()
    with Forked(lambda: [os.getpid(), list(range(100_000)), lambda: 1]) as computing:
        where, numbers, function = computing.result()
    assert where == here and numbers == list(range(100_000)) and callable(function) and function() == 1
    assert len(forked) == 1 and _gone(forked[0])


def test_a_fallback_is_kept_instead_of_what_only_the_child_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a child runs the function, this process keeps the fallback only (the function's data
    goes), and computes with it what the child did not send."""
    import weakref

    class Data(list[int]):
        pass

    forked = _forks(monkeypatch)
    here = os.getpid()
    data = Data(range(10))
    alive = weakref.ref(data)

    def child_only(values: list[int] = data) -> int:
        if os.getpid() == here:
            raise AssertionError("computed here")
        raise RuntimeError("the child fails")

    with Forked(child_only, fallback=lambda: 7) as computing:
        del child_only, data
        assert alive() is None
        assert computing.result() == 7
    with Forked(lambda: os.getpid(), fallback=lambda: 7) as sent:
        assert sent.result() not in (7, here)
    assert len(forked) == 2 and all(_gone(pid) for pid in forked)


def test_a_child_no_one_asks_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    start = time.monotonic()
    with Forked(lambda: time.sleep(60)):
        pass
    with Forked(lambda: list(range(1_000_000))):  # blocked on a full pipe
        time.sleep(0.2)
    assert time.monotonic() - start < 10
    assert len(forked) == 2 and all(_gone(pid) for pid in forked)


def test_a_child_that_serves_answers_after_its_value_until_it_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child given ``serve`` sends its value, then answers each request with what its value's
    computation left it (not this process's); one that dies is stopped, and says it sent nothing."""
    forked = _forks(monkeypatch)
    here = os.getpid()
    held: dict[str, int] = {}

    def compute() -> int:
        held["pid"] = os.getpid()  # in the child only
        return 1

    def answer(request: int) -> tuple[int, int, list[int]]:
        if request < 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return request * 2, held["pid"], list(range(request))

    with Forked(compute, serve=answer) as serving:
        assert serving.result() == 1 and serving.serving
        for request in (3, 300_000):  # (the second: more than a pipe holds)
            assert serving.ask(request)
            doubled, where, numbers = serving.answer()[1]
            assert doubled == request * 2 and where not in (here, None) and numbers == list(range(request))
        assert serving.ask(-1) and serving.answer() == (False, None)
        assert not serving.serving and not serving.ask(1)
    with Forked(lambda: 1 // 0, fallback=lambda: 7, serve=answer) as failed:  # no value sent: no child serves
        assert failed.result() == 7 and not failed.serving and failed.answer() == (False, None)
    with Forked(compute, serve=answer) as unasked:  # closed while it waits for requests
        assert unasked.result() == 1
    assert held == {} and len(forked) == 3 and all(_gone(pid) for pid in forked)


def test_without_fork_it_is_computed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    calls: list[int] = []
    computing = Forked(lambda: calls.append(1) or len(calls), fork=False)
    assert calls == [1] and computing.result() == 1 and calls == [1] and forked == []


def test_a_process_that_cannot_fork_computes_it_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    here = os.getpid()
    with Forked(os.getpid) as computing:
        assert computing.result() == here


def _stages(here: int, log: list[str], fail_at: int | None = None) -> Iterator[tuple[str, int, list[int]]]:
    """Three values, each saying where it was made; in a child, the ``fail_at``th one fails."""
    for index, name in enumerate(("first", "second", "third")):
        if os.getpid() == here:
            log.append(name)
        elif index == fail_at:
            os.kill(os.getpid(), signal.SIGKILL)
        yield name, os.getpid(), list(range(200_000 * index))  # (the third: more than a pipe holds)


def test_staged_values_come_from_where_the_generator_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values before ``fork`` are made here; the child goes on from there, and sends the rest in
    their order."""
    forked = _forks(monkeypatch)
    here, log = os.getpid(), []
    with Staged(_stages(here, log)) as stages:
        assert stages.take()[:2] == ("first", here) and not stages.forked
        stages.fork()
        second, third = stages.take(), stages.take()
    assert (second[0], third[0]) == ("second", "third") and second[1] == third[1] != here
    assert third[2] == list(range(400_000)) and log == ["first"]
    assert len(forked) == 1 and _gone(forked[0])


@pytest.mark.parametrize("fail_at", [0, 1, 2])
def test_what_a_staged_child_does_not_send_is_made_here(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    """A child killed before a value: that value and the rest are made here, by running this
    process's generator again past what the child sent (the same values: its input is its own)."""
    forked = _forks(monkeypatch)
    here, log = os.getpid(), []
    with Staged(_stages(here, log, fail_at)) as stages:
        stages.fork()
        values = [stages.take() for _ in range(3)]
    assert [v[0] for v in values] == ["first", "second", "third"] and values[2][2] == list(range(400_000))
    assert [v[1] == here for v in values] == [index >= fail_at for index in range(3)]
    assert log == ["first", "second", "third"]  # made here again up to the first one not sent
    assert len(forked) == 1 and _gone(forked[0])
    with pytest.raises(StopIteration):
        Staged(iter(())).take()


def test_a_staged_child_no_one_asks_is_stopped_and_one_refused_makes_them_here(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    start = time.monotonic()
    with Staged(iter([list(range(1_000_000)), 1])) as blocked:  # on a full pipe
        blocked.fork()
        time.sleep(0.2)
    assert time.monotonic() - start < 10 and len(forked) == 1 and _gone(forked[0])

    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    here = os.getpid()
    with Staged(os.getpid() for _ in range(2)) as stages:
        stages.fork()
        assert not stages.forked and [stages.take(), stages.take()] == [here, here]
