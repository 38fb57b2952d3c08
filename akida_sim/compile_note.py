"""A one-time note on standard error while Numba compiles the kernels.

The kernels are compiled on their first call and cached on disk
(``cache=True``, see ``kernels.config``): the first run of a process on a
new install spends seconds compiling, later runs load the machine code. A
command that would otherwise sit silent says so once, when a compilation
has lasted NOTE_AFTER_S seconds, and can leave the time spent compiling out
of what it measures. Numba's event API reports real compilations only (a
cache load is not one).
"""
import sys
import threading
import time
from contextlib import contextmanager

from numba.core import event

#: Seconds of compiling after which the note is printed.
NOTE_AFTER_S = 2.0
#: What a first ``akida-sim run`` (the digits model, mapped) spends compiling
#: (measured: 15 s on a new user's laptop, 15 to 50 s on a busy 2-core VM).
FIRST_COMPILE_S = 15
_printed = False


class CompileWatch(event.Listener):
    """Numba compilations seen while registered: ``seconds`` spent compiling (nested compilations
    counted once), and ``note()`` called when one compilation has lasted ``after_s`` seconds."""

    def __init__(self, note, after_s):
        self.note, self.after_s = note, after_s
        self.seconds = 0.0
        self._depth, self._started, self._timer = 0, 0.0, None
        self._lock = threading.Lock()

    def _still_compiling(self):
        with self._lock:
            if self._depth > 0:
                self.note()

    def on_start(self, evt):
        with self._lock:
            self._depth += 1
            if self._depth == 1:
                self._started = time.perf_counter()
                self._timer = threading.Timer(self.after_s, self._still_compiling)
                self._timer.daemon = True
                self._timer.start()

    def on_end(self, evt):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self.seconds += time.perf_counter() - self._started
                self._timer.cancel()

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()


@contextmanager
def compile_note(program, stream=None, after_s=NOTE_AFTER_S):
    """Within the block, print ``<program>: compiling ...`` once per process when a Numba compilation
    lasts ``after_s`` seconds; yields the CompileWatch (``.seconds``: time spent compiling in the block).

    program: the name the note starts with; stream: where it goes (None: ``sys.stderr`` at print time).
    """
    def note():
        global _printed
        if not _printed:
            _printed = True
            print(f"{program}: compiling Numba kernels on their first use (up to about {FIRST_COMPILE_S} s; "
                  f"cached on disk, later runs load them)", file=stream or sys.stderr, flush=True)

    watch = CompileWatch(note, after_s)
    event.register("numba:compile", watch)
    try:
        yield watch
    finally:
        event.unregister("numba:compile", watch)
        watch.stop()
