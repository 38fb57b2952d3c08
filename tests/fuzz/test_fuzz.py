"""Fuzz suite: untrusted files, dicts, arguments and command lines end in a
clean akida_sim error or a correct result, each case under a 2 GiB
address-space limit and a timeout (see sandbox.py, strategies.py).

Profiles: the short one (the default, part of the test suite) runs
``SHORT_EXAMPLES`` cases per strategy; ``AKIDA_SIM_FUZZ=long`` runs
``LONG_EXAMPLES`` (by hand: ``AKIDA_SIM_FUZZ=long python -m pytest tests/fuzz``).
"""
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import strategies
from tests.fuzz.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and RLIMIT_AS")

SHORT_EXAMPLES = 8
LONG_EXAMPLES = 400
EXAMPLES = LONG_EXAMPLES if os.environ.get("AKIDA_SIM_FUZZ") == "long" else SHORT_EXAMPLES
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == SHORT_EXAMPLES, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox()
    yield box
    box.close()


#: Strategy of each kind of case (see cases.py).
STRATEGIES = {"model_file": strategies.model_files(), "model_path": strategies.model_files(),
              "model_dict": strategies.model_dicts(), "layer": strategies.layer_arguments(),
              "what_if": strategies.what_if_devices, "add_classes": strategies.class_counts,
              "cli": strategies.command_lines()}


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@FUZZ
@given(data=st.data())
def test_untrusted_inputs(sandbox, kind, data):
    payload = data.draw(STRATEGIES[kind])
    outcome = sandbox.run(kind, payload)
    assert outcome[0] in ("ok", "refused"), (outcome, payload if kind not in ("model_file", "model_path")
                                             else len(payload))


def test_the_sandbox_reports_memory_errors_and_timeouts(sandbox):
    """The harness itself: a case that exhausts memory or hangs is reported, and the next one runs."""
    assert sandbox.run("probe", "memory") == ("memory error",)
    assert sandbox.run("probe", "hang", timeout=1) == ("timeout", 1)
    assert sandbox.run("layer", ("FullyConnected", {"units": 4}, (1, 1, 1), 1))[0] == "ok"
