"""Opt-in conformance suite: akida_sim against the vendor's akida==2.19.3.

Run with ``python -m pytest -q -m oracle tests/oracle``. The whole folder is
skipped when the vendor's package is not installed, and every test in it
carries the ``oracle`` marker (deselected by the default ``-m 'not oracle'``).

Each test module starts with ``akida = pytest.importorskip("akida")`` (a
conftest cannot skip itself when pytest is given this folder on the command
line); any test collected without the vendor's package is skipped here too.

The vendor's engine is used only through its public API, as a black box.
Some of its inputs kill the process (see model_specs.py); they are never
passed to it.
"""
import pathlib
import sys

import pytest

try:
    import akida  # noqa: F401
except ImportError as exc:
    MISSING = f"the vendor's akida package is not installed ({exc})"
else:
    MISSING = None

HERE = pathlib.Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder ``oracle`` before ``-m`` selects (and skip it without akida)."""
    for item in items:
        if HERE in pathlib.Path(item.path).parents:
            item.add_marker(pytest.mark.oracle)
            if MISSING:
                item.add_marker(pytest.mark.skip(reason=MISSING))


def pytest_terminal_summary(terminalreporter):
    specs = sys.modules.get("model_specs")
    stats = specs.STATS if specs is not None else None
    if stats:
        terminalreporter.section("oracle conformance counters")
        for key in sorted(stats):
            terminalreporter.write_line(f"{key}: {stats[key]}")
