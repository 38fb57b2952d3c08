"""The README's "From Keras" example runs as written."""
import pathlib
import re

README = pathlib.Path(__file__).parents[2] / "README.md"


def test_from_keras_example_runs(keras, capsys):
    section = README.read_text().split("## From Keras", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md (From Keras)", "exec"), namespace)
    assert namespace["akida_accuracy"] >= namespace["keras_accuracy"] - 0.02
    assert "float " in capsys.readouterr().out
