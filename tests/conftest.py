"""Shared test configuration: hypothesis profiles.

Profiles (pick with ``HYPOTHESIS_PROFILE=<name>``):

- ``ci``: derandomized (the same examples every run), no deadline, no example database.
  The default when the ``CI`` environment variable is set.
- ``dev``: random examples, no deadline (JIT compilation makes first calls slow). The local default.
- ``thorough``: 10x the examples, for a long local run.

With ``NUMBA_DISABLE_JIT=1`` the kernels run as plain Python, so every profile runs fewer
examples (``max_examples`` divided by 4) to keep that coverage run short.
"""
import os

from hypothesis import HealthCheck, settings

_NO_JIT = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")
_SCALE = 0.25 if _NO_JIT else 1.0
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def scaled(n):
    """``n`` examples, reduced when the kernels run uncompiled."""
    return max(5, int(n * _SCALE))


settings.register_profile("ci", derandomize=True, database=None, max_examples=scaled(100), **_COMMON)
settings.register_profile("dev", max_examples=scaled(100), **_COMMON)
settings.register_profile("thorough", max_examples=scaled(1000), **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
