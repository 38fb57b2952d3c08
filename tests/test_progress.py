"""Progress bars: the split of a batch, when a bar shows, and that a bar never changes results."""
import numpy as np
import pytest

pytest.importorskip("tqdm")

import akida_sim as akida  # noqa: E402
from akida_sim import progress  # noqa: E402


def test_chunks_follow_the_batch_size():
    assert list(progress.chunks(10, 3, "forward", verbose=False)) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert list(progress.chunks(10, 0, "forward", verbose=False)) == [(0, 10)]


def test_a_bar_splits_a_whole_batch_so_that_it_moves(capsys):
    n = progress.MIN_CHUNK * 3 + 5
    assert list(progress.chunks(n, 0, "forward", verbose=True)) == [
        (0, 256), (256, 512), (512, 768), (768, n)]
    assert "forward" in capsys.readouterr().err
    big = progress.MIN_CHUNK * progress.MAX_STEPS * 2
    assert len(list(progress.chunks(big, 0, "forward", verbose=True))) == progress.MAX_STEPS


def test_no_bar_when_not_a_terminal_or_asked(capsys):
    list(progress.chunks(1000, 0, "forward"))          # pytest's stderr is not a terminal
    list(progress.chunks(1000, 10, "forward", verbose=False))
    assert capsys.readouterr().err == ""
    assert not progress.is_on(None) and not progress.is_on(False) and progress.is_on(True)


def test_bad_verbose_is_named():
    with pytest.raises(TypeError, match="forward: argument 'verbose' must be True, False or None, got 1"):
        list(progress.chunks(3, 0, "forward", verbose=1))


def _learner(seed):
    model = akida.Model()
    model.add(akida.InputData(input_shape=(1, 1, 64), input_bits=1))
    model.add(akida.FullyConnected(units=12, weights_bits=1, activation=False))
    model.compile(akida.AkidaUnsupervised(num_weights=10, num_classes=3), seed=seed)
    return model


def test_model_results_do_not_depend_on_the_bar(capsys):
    rng = np.random.default_rng(0)
    n = progress.MIN_CHUNK * 2 + 17
    x = (rng.random((n, 1, 1, 64)) < 0.3).astype(np.uint8)
    labels = rng.integers(0, 3, n).astype(np.int32)
    quiet, shown = _learner(1), _learner(1)
    fit_quiet = quiet.fit(x, labels, verbose=False)
    fit_shown = shown.fit(x, labels, verbose=True)
    assert "fit" in capsys.readouterr().err
    np.testing.assert_array_equal(fit_shown, fit_quiet)
    for name in ("weights", "threshold_learning", "thswap"):
        np.testing.assert_array_equal(shown.layers[1].get_variable(name), quiet.layers[1].get_variable(name))
    np.testing.assert_array_equal(shown.forward(x, verbose=True), quiet.forward(x, verbose=False))
    np.testing.assert_array_equal(shown.predict(x, batch_size=100, verbose=True), quiet.predict(x))
    with pytest.raises(TypeError, match="fit: argument 'verbose'"):
        quiet.fit(x[:2], labels[:2], verbose="yes")
