"""A one-time note on standard error while Numba compiles the kernels.

The kernels are compiled on their first call and cached on disk
(``cache=True``, see ``kernels.config``): the first run of a process on a
new install spends seconds compiling, later runs load the machine code. A
command that would otherwise sit silent says so once, when compiling has
lasted NOTE_AFTER_S seconds. Numba's event API reports real compilations
only (a cache load is not one).
"""
import sys
import threading
from contextlib import contextmanager

from numba.core import event

#: Seconds of compiling after which the note is printed.
NOTE_AFTER_S = 2.0
#: What a first ``akida-sim run`` (the digits model, mapped) spends compiling
#: (measured: 15 s on a new user's laptop, 15 to 50 s on a busy 2-core VM).
FIRST_COMPILE_S = 15
_printed = False


class _FirstCompile(event.Listener):
    """Starts the note's timer at the first compilation seen."""

    def __init__(self, timer):
        self.timer = timer

    def on_start(self, evt):
        if not self.timer.is_alive() and not self.timer.finished.is_set():
            self.timer.start()

    def on_end(self, evt):
        pass


@contextmanager
def compile_note(program, stream=None, after_s=NOTE_AFTER_S):
    """Within the block, print ``<program>: compiling ...`` once per process if Numba compiles for ``after_s`` s.

    program: the name the note starts with; stream: where it goes (None: ``sys.stderr`` at print time).
    """
    def note():
        global _printed
        if not _printed:
            _printed = True
            print(f"{program}: compiling Numba kernels on their first use (up to about {FIRST_COMPILE_S} s; "
                  f"cached on disk, later runs load them)", file=stream or sys.stderr, flush=True)

    timer = threading.Timer(after_s, note)
    timer.daemon = True
    listener = _FirstCompile(timer)
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)
        timer.cancel()
