"""TensorFlow (and Keras) imported without TensorFlow's C++ log lines on standard error.

Where akida_sim imports Keras or TensorFlow (``akida_sim.digits``, the
conversion's Keras layers) it goes through ``quiet_import``. TensorFlow's C++
runtime writes its log lines to file descriptor 2, past Python's
``sys.stderr``: on a machine whose TensorFlow build has CUDA but no GPU they
are a dozen lines of "Unable to register cuDNN factory", "failed call to
cuInit" and the like, none of them about the user's work.

- ``TF_CPP_MIN_LOG_LEVEL`` is set to LOG_LEVEL before TensorFlow loads,
  unless the user has set it (their setting wins); it filters the lines
  TensorFlow logs through its own logging, at import and later.
- The lines some plugins log while the package loads, before that logging
  starts, ignore the variable: the first import runs with descriptor 2 on
  the null device. A Python error of the import still raises as usual.
"""
import importlib
import os
import sys
from contextlib import contextmanager

#: ``TF_CPP_MIN_LOG_LEVEL`` when the user has not set it: 3 keeps INFO, WARNING
#: and ERROR lines out (an error that stops TensorFlow still raises in Python).
LOG_LEVEL = "3"


@contextmanager
def _descriptor_2_silenced():
    """File descriptor 2 on the null device within the block (unchanged when it cannot be redirected)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def quiet_import(name):
    """The module ``name`` (e.g. "keras", "tensorflow", "tf_keras"), TensorFlow's C++ log lines kept quiet.

    Raises ImportError as ``importlib.import_module`` does.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", LOG_LEVEL)
    if name in sys.modules or "tensorflow" in sys.modules:
        return importlib.import_module(name)
    with _descriptor_2_silenced():
        return importlib.import_module(name)
