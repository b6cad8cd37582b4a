"""bpcalc.loading: modules load without the cyclic garbage collector's scans,
and the collector is left as it was (each case in a fresh process: the
collector's state is the whole process's)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_importing_bpcalc_leaves_the_collector_on_and_nothing_frozen() -> None:
    assert run("""
        import gc
        import bpcalc, bpcalc.cli
        print(gc.isenabled(), gc.get_freeze_count())
    """) == "True 0"


def test_a_collector_turned_off_stays_off() -> None:
    assert run("""
        import gc
        gc.disable()
        import bpcalc, bpcalc.cli
        from bpcalc.symbolic import import_sympy
        import_sympy()
        print(gc.isenabled(), gc.get_freeze_count())
    """) == "False 0"


def test_objects_frozen_by_the_program_stay_frozen() -> None:
    out = run("""
        import gc
        kept = [[] for _ in range(100)]
        gc.freeze()
        import bpcalc, bpcalc.cli
        from bpcalc import loading
        paused = loading.pause()
        made = [[] for _ in range(100)]
        loading.resume(paused)
        # gc.get_objects() lists no frozen object
        print(gc.isenabled(), any(x is kept for x in gc.get_objects()), any(x is made for x in gc.get_objects()))
    """)
    assert out == "True False True"


def test_pause_then_resume_moves_the_new_objects_to_the_oldest_generation() -> None:
    out = run("""
        import gc
        from bpcalc import loading
        paused = loading.pause()
        made = [[] for _ in range(5000)]
        assert not gc.isenabled()
        loading.resume(paused)
        print(gc.isenabled(), gc.get_freeze_count(), any(x is made for x in gc.get_objects(generation=2)))
    """)
    assert out == "True 0 True"


def test_the_command_lines_own_process_sets_its_objects_aside() -> None:
    out = run("""
        import gc
        from bpcalc import loading
        loading.own_process()
        frozen = gc.get_freeze_count()
        paused = loading.pause()
        made = [[] for _ in range(5000)]
        loading.resume(paused)
        print(gc.isenabled(), frozen > 0, gc.get_freeze_count() >= frozen + 5000)
    """)
    assert out == "True True True"
