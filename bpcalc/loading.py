"""Loading modules without the cyclic garbage collector's scans (issue 16).

The modules bpcalc loads make tens of thousands of objects the cyclic
garbage collector tracks (typer and click about 20 000, SymPy about 80 000),
and they live as long as the process. While they load, the collector scans
them again and again and frees nothing: 3 ms of a 55 ms `bpcalc grad`, 30 ms
of a SymPy import of 180 ms. So bpcalc loads them with the collector paused
(`pause`), then moves what they made into its oldest generation without a
scan, where surviving objects end up anyway (`resume`: `gc.freeze`, then
`gc.unfreeze`). In a process of bpcalc's own (the command line, and the
children it forks: `own_process`) they are set aside for good instead
(`gc.freeze`), so that no later collection scans them either.

A process that froze objects of its own before (a server, before it forks)
keeps them frozen: bpcalc then only pauses the collector.
"""

import gc

#: Set by `own_process`: this process is bpcalc's command line.
OWN_PROCESS = False


def pause() -> tuple[bool, int]:
    """Stop the collector; what `resume` needs to turn it back on."""
    state = (gc.isenabled(), gc.get_freeze_count())
    gc.disable()
    return state


def resume(state: tuple[bool, int]) -> None:
    """The collector as it was before `pause`, with the objects made since
    in its oldest generation (or, in bpcalc's own process, set aside)."""
    collecting, frozen = state
    if OWN_PROCESS:
        gc.freeze()
    elif not frozen:  # no one else's frozen objects to thaw
        gc.freeze()
        gc.unfreeze()
    if collecting:
        gc.enable()


def own_process() -> None:
    """This process is bpcalc's command line: every object made so far, and
    what later `pause` / `resume` pairs load, is set aside for good."""
    global OWN_PROCESS

    OWN_PROCESS = True
    gc.freeze()
