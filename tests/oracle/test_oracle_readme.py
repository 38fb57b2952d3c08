"""The README's Python blocks, those that use the vendor's package included, run in order."""
import pytest

from tests.readme_blocks import needs_vendor, python_blocks, run_blocks

akida = pytest.importorskip("akida")
pytestmark = pytest.mark.oracle


def test_readme_blocks_with_the_vendor_package_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    blocks = python_blocks()
    assert any(needs_vendor(source) for _, source in blocks)
    namespace = run_blocks(blocks, {"__name__": "readme"})
    x = namespace["x"]
    assert namespace["back"].layer_count == namespace["model"].layer_count
    assert (namespace["back"].forward(x) == namespace["vendor_model"].forward(x)).all()
