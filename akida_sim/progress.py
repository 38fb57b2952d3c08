"""Progress bars for long loops (``forward``/``fit`` over large batches, sweeps, the CLI).

A bar is drawn with tqdm on standard error. ``verbose=None`` (the default
everywhere) draws it only when standard error is a terminal, and only once
the loop has run for ``AUTO_DELAY_S`` seconds, so short calls print nothing;
``verbose=True`` draws it at once; ``verbose=False`` never. tqdm comes with
the ``sweeps`` extra: without it, ``verbose=None`` stays silent and
``verbose=True`` raises an ImportError naming the extra.
"""
import sys

from .errors import SimTypeError

#: Seconds an automatic bar (verbose=None) waits before it shows.
AUTO_DELAY_S = 2.0
#: Samples per step when a bar splits a batch given all at once (batch_size=0).
MIN_CHUNK = 256
#: At most this many steps when a bar splits a batch given all at once.
MAX_STEPS = 100


def _tqdm(required):
    try:
        from tqdm import tqdm
    except ImportError:
        if required:
            raise ImportError("progress bars need tqdm: pip install akida-sim[sweeps]") from None
        return None
    return tqdm


def is_on(verbose, where="progress"):
    """Whether a bar is drawn for ``verbose`` (None: when stderr is a terminal);
    ``where`` names the caller in the error a bad value raises."""
    if verbose is not None and not isinstance(verbose, bool):
        raise SimTypeError(f"{where}: argument 'verbose' must be True, False or None, got {verbose!r}")
    if verbose is None:
        return sys.stderr.isatty() and _tqdm(required=False) is not None
    return verbose


class _NoBar:
    """Stands in for a tqdm bar when progress is off."""

    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def bar(total, desc, verbose=None, unit="it"):
    """A tqdm bar over ``total`` steps (a context manager with ``update(n)``),
    or a silent stand-in when progress is off."""
    if not is_on(verbose, desc):
        return _NoBar()
    tqdm = _tqdm(required=True)
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                delay=AUTO_DELAY_S if verbose is None else 0.0)


def chunks(n, step, desc, verbose=None):
    """(start, stop) ranges covering ``n`` samples ``step`` at a time (0: all at
    once), advancing a bar over the samples.

    With a bar on and ``step`` 0, the batch is split into at most MAX_STEPS
    chunks of at least MIN_CHUNK samples so that the bar moves; results of a
    per-sample computation do not depend on the split.
    """
    on = is_on(verbose, desc)
    if step == 0:
        step = max(MIN_CHUNK, -(-n // MAX_STEPS)) if on else n
    with bar(n, desc, verbose, unit="sample") as progress:
        for start in range(0, n, step):
            stop = min(start + step, n)
            yield start, stop
            progress.update(stop - start)


__all__ = ["AUTO_DELAY_S", "MAX_STEPS", "MIN_CHUNK", "bar", "chunks", "is_on"]
