"""The Python blocks of README.md, for the tests that execute them in order."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
#: A block that imports the vendor's packages (akida, or cnn2snn and quantizeml
#: that import it) runs in the oracle suite only; ``akida_sim`` does not match.
VENDOR_IMPORT = re.compile(r"^\s*(import|from)\s+(akida|cnn2snn|quantizeml)\b", re.MULTILINE)


def python_blocks():
    """[(first line number, source)] of every ```python block, in order."""
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


def needs_vendor(source):
    return bool(VENDOR_IMPORT.search(source))


def run_blocks(blocks, namespace):
    """Execute ``blocks`` in order in ``namespace``; a failure names the README line."""
    for line, source in blocks:
        code = compile("\n" * (line - 1) + source, str(README), "exec")
        exec(code, namespace)  # noqa: S102 - the README's own examples
    return namespace
