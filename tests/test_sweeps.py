"""akida_sim.sweeps.run: grids, tidy tables, captured errors, local and distributed Dask."""
import os

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed")

import akida_sim as akida  # noqa: E402
from akida_sim import progress, sweeps  # noqa: E402


def area(width, height):
    """A sweep function that fails on one configuration and reports its process."""
    if width == 0:
        raise ValueError(f"width must be > 0, got {width}")
    return {"area": width * height, "pid": os.getpid()}


def fully_connected_outputs(units, weights_bits):
    """A small akida_sim model per configuration: what workers really run."""
    model = akida.Model()
    model.add(akida.InputData(input_shape=(1, 1, 8), input_bits=4))
    model.add(akida.FullyConnected(units=units, weights_bits=weights_bits, activation=False))
    model.layers[1].set_variable("weights", np.ones((1, 1, 8, units), np.int8))
    out = model.forward(np.full((2, 1, 1, 8), 3, np.uint8))
    return {"total": int(out.sum()), "shape": tuple(out.shape)}


def test_expand_dict_is_a_cartesian_product_last_key_fastest():
    assert sweeps.expand({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert sweeps.expand({"a": range(3)}) == [{"a": 0}, {"a": 1}, {"a": 2}]
    assert sweeps.expand({"a": [], "b": [1]}) == []


def test_expand_list_of_dicts_kept_as_given():
    grid = [{"a": 1}, {"a": 2, "b": 3}]
    assert sweeps.expand(grid) == grid


@pytest.mark.parametrize("grid, word", [
    ({"a": 1}, "grid['a'] must be a list"),
    ({"a": "abc"}, "grid['a'] must be a list"),
    ([{"a": 1}, 3], "grid[1] must be a dict"),
    (42, "dict of lists or a list of dicts"),
])
def test_bad_grids_are_named(grid, word):
    with pytest.raises(TypeError, match=word.replace("[", r"\[").replace("]", r"\]")):
        sweeps.run(area, grid)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'scheduler'"):
        sweeps.run(area, {"width": [1]}, scheduler="cluster")
    for bad in (0, True):
        with pytest.raises(ValueError, match="'num_workers'"):
            sweeps.run(area, {"width": [1]}, num_workers=bad)
    with pytest.raises(TypeError, match="sweeps: argument 'verbose'"):
        sweeps.run(area, {"width": []}, verbose="yes")
    with pytest.raises(TypeError, match="'fn' must be callable"):
        sweeps.run(None, {"width": [1]})
    with pytest.raises(TypeError, match="'client'"):
        sweeps.run(area, {"width": [1], "height": [1]}, client=3)


def _check_area_table(df):
    assert list(df.columns) == ["width", "height", "area", "pid", "error"]
    assert list(zip(df.width, df.height)) == [(0, 2), (0, 3), (4, 2), (4, 3)]
    ok = df[df.error.isna()]
    assert list(ok.area) == [8, 12]
    failed = df[df.error.notna()]
    assert list(failed.width) == [0, 0]
    assert all(e == "ValueError: width must be > 0, got 0" for e in failed.error)
    assert failed.area.isna().all()


def test_local_processes_by_default():
    df = sweeps.run(area, {"width": [0, 4], "height": [2, 3]}, num_workers=2)
    _check_area_table(df)
    assert os.getpid() not in set(df.pid.dropna())  # ran in worker processes


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_local_threads_and_sync(scheduler):
    df = sweeps.run(area, {"width": [0, 4], "height": [2, 3]}, scheduler=scheduler)
    _check_area_table(df)
    assert set(df.pid.dropna()) == {os.getpid()}


def test_result_keys_are_the_union_in_order_of_appearance():
    def fn(k):
        return {"a": k} if k == 1 else {"b": k, "a": -k}

    df = sweeps.run(fn, [{"k": 1}, {"k": 2}], scheduler="sync")
    assert list(df.columns) == ["k", "a", "b", "error"]
    assert df.a.tolist() == [1, -2] and pd.isna(df.b[0]) and df.b[1] == 2
    assert df.a.dtype == np.int64 and df.b.dtype == "Int64"  # ints stay ints when one row has none


def mixed_results(k):
    """Results of every kind, and a failure at k == 2."""
    if k == 2:
        raise ValueError("no k = 2")
    return {"count": k * 3, "ratio": k / 4, "name": f"k{k}", "even": k % 2 == 0, "np_count": np.int64(k)}


def test_a_failing_configuration_keeps_the_other_rows_types():
    df = sweeps.run(mixed_results, {"k": [1, 2, 4]}, scheduler="sync")
    assert dict(df.dtypes.astype(str)) == {"k": "int64", "count": "Int64", "ratio": "float64",
                                           "name": dict(df.dtypes.astype(str))["name"], "even": "boolean",
                                           "np_count": "Int64", "error": "object"}
    assert df["count"].tolist()[0::2] == [3, 12] and df["count"].isna().tolist() == [False, True, False]
    assert df.error.tolist() == [None, "ValueError: no k = 2", None]  # None, not NaN, where it ran
    assert "3" in df.to_string().splitlines()[1] and "3.0" not in df.to_string().splitlines()[1]


def test_without_failures_the_dtypes_are_numpys():
    df = sweeps.run(mixed_results, {"k": [1, 4]}, scheduler="sync")
    assert df["count"].dtype == np.int64 and df.even.dtype == bool and df.ratio.dtype == np.float64
    assert df.error.dtype == object and df.error.tolist() == [None, None]


def test_a_script_without_the_main_guard_gets_a_one_line_hint(tmp_path):
    import subprocess
    import sys
    script = tmp_path / "unguarded.py"
    script.write_text("from akida_sim import sweeps\n\n\ndef f(a):\n    return {'n': a}\n\n\n"
                      "print(sweeps.run(f, {'a': [1, 2]}, num_workers=2))\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == f"akida_sim.errors.SimRuntimeError: {sweeps.MAIN_GUARD_HINT}"
    assert len(lines) <= 12 and "BrokenProcessPool" not in done.stderr and "bootstrapping" not in done.stderr


def test_bad_returns_are_row_errors():
    df = sweeps.run(lambda k: k if k else {"k": 1}, {"k": [0, 5]}, scheduler="sync")
    assert df.error[0] == "SimValueError: sweeps: fn returned keys ['k'] that name a parameter or the 'error' column"
    assert df.error[1] == "SimTypeError: sweeps: fn must return a dict, got int"


def test_empty_grid_gives_an_empty_table():
    df = sweeps.run(area, {"width": [], "height": [1]})
    assert len(df) == 0 and list(df.columns) == ["width", "height", "error"]


def test_progress_bar_counts_every_configuration(monkeypatch):
    updates = []

    class Recorder(progress._NoBar):
        def update(self, n=1):
            updates.append(n)

    monkeypatch.setattr(progress, "bar", lambda total, desc, verbose=None, unit="it": Recorder())
    sweeps.run(area, {"width": [1, 2, 3], "height": [1]}, scheduler="threads")
    assert sum(updates) == 3


@pytest.fixture(scope="module")
def cluster():
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster:
        yield cluster


def crash_on(k):
    """Kills the worker process running k == 1 (as a segfault or an out-of-memory kill would)."""
    if k == 1:
        os._exit(1)
    return {"k2": k * k}


def test_local_cluster_with_two_workers(cluster):
    with distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        df = sweeps.run(area, {"width": [0, 4], "height": [2, 3]}, client=client)
        _check_area_table(df)
        assert os.getpid() not in set(df.pid.dropna())
        models = sweeps.run(fully_connected_outputs, {"units": [1, 3], "weights_bits": [1, 2]}, client=client)
    assert models.error.isna().all()
    assert models.total.tolist() == [48, 48, 144, 144]  # 2 samples x 8 inputs x 3 x units
    assert models["shape"].tolist() == [(2, 1, 1, 1)] * 2 + [(2, 1, 1, 3)] * 2


def test_scheduler_address_opens_its_own_client(cluster):
    df = sweeps.run(area, [{"width": 2, "height": 5}], client=cluster.scheduler_address)
    assert df.area.tolist() == [10] and df.error.isna().all()


def test_a_lost_worker_is_a_row_error(cluster):
    with distributed.Client(cluster) as client:
        df = sweeps.run(crash_on, {"k": [0, 1, 2]}, client=client)
    assert len(df) == 3 and df.error[1].startswith("KilledWorker")
    # a task queued on the dead worker may be lost with it; every other row holds its result
    for k, k2, error in zip(df.k, df.k2, df.error):
        assert (isinstance(error, str) and error.startswith("KilledWorker")) or (pd.isna(error) and k2 == k * k)
