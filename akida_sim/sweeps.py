"""Parameter sweeps on Dask: one call evaluates a function over a grid, locally or on a cluster.

``run(fn, grid)`` calls ``fn(**params)`` for every configuration of
``grid`` and returns a tidy pandas DataFrame, one row per configuration (a
column per parameter, then one per key ``fn`` returned, then ``error``). By
default the configurations run in local processes through Dask's local
scheduler; given a ``dask.distributed.Client`` (or a scheduler address) they
run on that cluster. Dask and pandas come with the ``sweeps`` extra
(``pip install akida-sim[sweeps]``).

``fn`` travels to the workers with cloudpickle, so a function defined in a
notebook or script works; what it closes over travels with it.
"""
import itertools
import multiprocessing
import numbers
import sys

import numpy as np

from . import progress
from .errors import SimRuntimeError, SimTypeError, SimValueError

#: Name of the column holding a failed configuration's exception (None when it succeeded).
ERROR = "error"
#: Dask local schedulers ``run`` accepts without a client.
LOCAL_SCHEDULERS = ("processes", "threads", "sync")
#: What ``run`` says when its worker processes died while starting from a script.
MAIN_GUARD_HINT = ("sweeps: the worker processes stopped while starting: they re-import the script, which "
                   "called sweeps.run again; call it under 'if __name__ == \"__main__\":'")


def _require(module):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise ImportError(f"akida_sim.sweeps needs {module.split('.')[0]}: pip install akida-sim[sweeps]") from None


def expand(grid):
    """The list of configurations (dicts) of ``grid``.

    grid: a dict of lists (every combination, the last key varying fastest,
    as ``itertools.product``) or a list of dicts (taken as they are).
    """
    if isinstance(grid, dict):
        for name, values in grid.items():
            if not isinstance(name, str):
                raise SimTypeError(f"sweeps: grid keys must be parameter names (str), got {name!r}")
            if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
                raise SimTypeError(f"sweeps: grid['{name}'] must be a list of values, got {type(values).__name__}")
        names = list(grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*(list(grid[n]) for n in names))]
    if isinstance(grid, (list, tuple)):
        for i, config in enumerate(grid):
            if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
                raise SimTypeError(f"sweeps: grid[{i}] must be a dict of parameter name -> value, got {config!r}")
        return [dict(config) for config in grid]
    raise SimTypeError(f"sweeps: argument 'grid' must be a dict of lists or a list of dicts, got {type(grid).__name__}")


def _evaluate(fn, params):
    """(result dict, None) or (None, error text): never raises."""
    try:
        result = fn(**params)
        if not isinstance(result, dict):
            raise SimTypeError(f"sweeps: fn must return a dict, got {type(result).__name__}")
        clash = sorted(set(result) & (set(params) | {ERROR}))
        if clash:
            raise SimValueError(f"sweeps: fn returned keys {clash} that name a parameter or the '{ERROR}' column")
        return result, None
    except Exception as exc:  # one failed configuration is a row, not the end of the sweep
        return None, f"{type(exc).__name__}: {exc}"


def _starting_worker():
    """True in a worker process that is importing the parent's script (``multiprocessing``'s spawn start)."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _run_local(fn, configs, scheduler, num_workers, verbose):
    dask = _require("dask")
    from concurrent.futures.process import BrokenProcessPool

    from dask.callbacks import Callback

    tasks = [dask.delayed(_evaluate, pure=False)(fn, params) for params in configs]
    keys = {task.key for task in tasks}
    with progress.bar(len(tasks), "sweep", verbose, unit="config") as bar:
        def done(key, result, dsk, state, worker_id):
            if key in keys:
                bar.update()

        options = {} if num_workers is None or scheduler == "sync" else {"num_workers": num_workers}
        with Callback(posttask=done):
            try:
                return list(dask.compute(*tasks, scheduler=scheduler, **options))
            except BrokenProcessPool:
                if getattr(sys.modules.get("__main__"), "__file__", None):  # run from a script
                    raise SimRuntimeError(MAIN_GUARD_HINT) from None
                raise


def _outcome(future):
    """What ``_evaluate`` returned on a worker, or the error that lost the task (a worker died)."""
    if future.status == "error":
        exc = future.exception()
        return None, f"{type(exc).__name__}: {exc}"
    return future.result()


def _run_distributed(fn, configs, client, verbose):
    distributed = _require("distributed")
    own = isinstance(client, str)
    if own:
        client = distributed.Client(client)
    elif not isinstance(client, distributed.Client):
        raise SimTypeError(f"sweeps: argument 'client' must be a dask.distributed.Client, a scheduler address "
                           f"or None, got {type(client).__name__}")
    try:
        futures = client.map(_evaluate, [fn] * len(configs), configs, pure=False)
        with progress.bar(len(futures), "sweep", verbose, unit="config") as bar:
            for _ in distributed.as_completed(futures):
                bar.update()
        return [_outcome(future) for future in futures]
    finally:
        if own:
            client.close()


def run(fn, grid, client=None, *, scheduler="processes", num_workers=None, verbose=None):
    """Evaluate ``fn(**params) -> dict`` over ``grid`` in parallel; a tidy DataFrame.

    Args:
        fn: a function of the grid's parameters returning a dict of results
            (numbers, strings, arrays...).
        grid: a dict of lists (Cartesian product) or a list of dicts.
        client: None (Dask's local ``scheduler``), a ``dask.distributed.Client``,
            or a scheduler address such as ``"tcp://10.0.0.5:8786"`` (a client
            is opened and closed for the sweep).
        scheduler: without a client, Dask's local scheduler: "processes"
            (default), "threads" or "sync" (one at a time, for debugging).
        num_workers: without a client, the number of local workers (None: Dask's default).
        verbose: progress bar (None: when standard error is a terminal).

    Returns:
        pandas.DataFrame, one row per configuration in grid order: the
        parameter columns, the result keys (union over configurations, in
        order of first appearance; missing values are NaN, or ``<NA>`` in
        a column of ints or bools, which keeps its type as pandas' nullable
        ``Int64`` / ``boolean``) and ``error`` (object: None, or the
        exception's type and message when ``fn`` raised).

    Raises:
        SimRuntimeError: the local worker processes stopped while starting,
            as when a script calls ``run`` without the
            ``if __name__ == "__main__":`` guard (its message says so).
    """
    if scheduler == "processes" and client is None and _starting_worker():
        raise SystemExit(1)  # a worker importing an unguarded script: the parent says why (MAIN_GUARD_HINT)
    pandas = _require("pandas")
    configs = expand(grid)
    if not callable(fn):
        raise SimTypeError(f"sweeps: argument 'fn' must be callable, got {type(fn).__name__}")
    progress.is_on(verbose, "sweeps")  # a bad verbose is refused before anything runs
    if client is None:
        if scheduler not in LOCAL_SCHEDULERS:
            raise SimValueError(f"sweeps: argument 'scheduler' must be one of {LOCAL_SCHEDULERS}, got {scheduler!r}")
        if num_workers is not None and (isinstance(num_workers, bool) or not isinstance(num_workers, int)
                                        or num_workers < 1):
            raise SimValueError(f"sweeps: argument 'num_workers' must be an int >= 1 or None, got {num_workers!r}")
        outcomes = _run_local(fn, configs, scheduler, num_workers, verbose) if configs else []
    else:
        outcomes = _run_distributed(fn, configs, client, verbose) if configs else []
    params = list(grid) if isinstance(grid, dict) else list(dict.fromkeys(n for config in configs for n in config))
    results = list(dict.fromkeys(key for result, _ in outcomes if result for key in result))
    rows = [{**config, **(result or {})} for config, (result, _) in zip(configs, outcomes)]
    frame = pandas.DataFrame(rows, columns=params + results)
    for key in results:
        values = [result.get(key) if result else None for result, _ in outcomes]
        dtype = _nullable_dtype(values)
        if dtype is not None:
            frame[key] = pandas.array(values, dtype=dtype)
    frame[ERROR] = pandas.Series([error for _, error in outcomes], index=frame.index, dtype=object)
    return frame


def _nullable_dtype(values):
    """pandas' nullable dtype keeping a result column's ints (``Int64``) or bools (``boolean``) when some
    rows have none (their configuration failed, or ``fn`` did not return the key): missing values are then
    ``<NA>``, not NaN in a float column. None when no value is missing or the values are of other types."""
    present = [v for v in values if v is not None]
    if not present or len(present) == len(values):
        return None
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return "boolean"
    if all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in present):
        return "Int64"
    return None


#: Column of ``software_columns``: how many layers ``map()`` left in software.
SOFTWARE_LAYERS = "software_layers"


def software_columns(model):
    """Sweep columns saying which layers of a mapped ``model`` ``map()`` left in software and why:
    ``software_layers`` (int, 0 when all run on hardware) and ``software_reasons`` (str,
    ``"layer: rule; ..."``, empty when none). Return them from a sweep function
    (``{**figures, **software_columns(model)}``); ``akida_sim.plotting.sweep`` marks the rows
    with software layers."""
    layers = [layer for layer in model.layers if layer.software_reason is not None]
    return {SOFTWARE_LAYERS: len(layers),
            "software_reasons": "; ".join(f"{layer.name}: {', '.join(layer.software_reason.rules)}"
                                          for layer in layers)}


__all__ = ["ERROR", "LOCAL_SCHEDULERS", "SOFTWARE_LAYERS", "expand", "run", "software_columns"]
