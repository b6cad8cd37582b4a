import time

from bpcalc.budget import run_with_budget


def _square(x):
    return x * x


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def _fail():
    raise ZeroDivisionError("boom")


def _huge_integer():
    return 9 ** (9 ** 9)  # runs in C: only killing the process stops it


def test_result_comes_back():
    out = run_with_budget(_square, (7,), 10)
    assert (out.status, out.value) == ("ok", 49)


def test_timeout_is_reported_and_bounded():
    start = time.monotonic()
    out = run_with_budget(_spin, (30,), 0.5)
    assert out.status == "timeout"
    assert time.monotonic() - start < 5


def test_work_in_c_code_is_stopped_too():
    start = time.monotonic()
    assert run_with_budget(_huge_integer, (), 0.5).status == "timeout"
    assert time.monotonic() - start < 5


def test_exceptions_become_errors():
    out = run_with_budget(_fail, (), 10)
    assert out.status == "error" and out.error == "ZeroDivisionError: boom"


def _die():
    import os

    os._exit(3)  # as a child killed by the kernel would: no answer at all


def test_a_child_that_dies_without_an_answer_is_an_error():
    out = run_with_budget(_die, (), 10)
    assert out.status == "error" and out.error == "the check process ended without an answer"


def test_zero_budget():
    assert run_with_budget(_square, (1,), 0).status == "timeout"


def test_meanwhile_runs_here_while_the_child_computes():
    done = []
    start = time.monotonic()
    out = run_with_budget(_spin_then, (0.5,), 10, meanwhile=lambda: done.append(time.monotonic() - start))
    assert out.status == "ok" and out.value == "done"
    assert len(done) == 1 and done[0] < 0.4  # it did not wait for the child


def _spin_then(seconds):
    return _spin(seconds)
