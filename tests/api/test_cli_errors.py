"""Command-line user errors: one line on stderr, exit status 2, never a traceback."""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from akida_sim import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _npy_header(shape, dtype="|u1"):
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _inputs(folder):
    """{name: path} of bad ``-i`` inputs for the mnist model (input (28, 28, 1))."""
    np.savez(folder / "archive.npz", x=np.zeros((28, 28, 1), np.uint8))
    os.rename(folder / "archive.npz", folder / "npz.npy")
    (folder / "empty.npy").write_bytes(b"")
    (folder / "png.npy").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (folder / "huge.npy").write_bytes(_npy_header((2 ** 40, 28, 28, 1)) + bytes(100))
    (folder / "short.npy").write_bytes(_npy_header((3, 28, 28, 1)) + bytes(28 * 28))
    (folder / "fortran.npy").write_bytes(_npy_header((28, 28, 1), "<u8x") + bytes(28 * 28 * 8))
    os.mkfifo(folder / "fifo.npy")
    return {"npz": "npz.npy", "empty": "empty.npy", "png": "png.npy", "huge": "huge.npy", "short": "short.npy",
            "odd dtype": "fortran.npy", "fifo": "fifo.npy", "directory": ".", "device": "/dev/zero",
            "missing": "missing.npy"}


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return folder, _inputs(folder)


BAD_ARGUMENTS = {
    "negative seed": ["run", "--seed", "-5"],
    "huge seed": ["run", "--seed", str(2 ** 64)],
    "huge batch": ["run", "--batch", "1000000000"],
    "device as model": ["run", "-m", "/dev/zero"],
    "directory as model": ["summary", "."],
    "unknown option": ["run", "--bogus"],
    "NUL byte in the input": ["run", "-i", "x\0.npy"],
}


def _one_line_error(capsys, code):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("akida-sim"), err
    return err


@pytest.mark.parametrize("name", ["npz", "empty", "png", "huge", "short", "odd dtype", "fifo", "directory",
                                  "device", "missing"])
def test_bad_input_files(bad_inputs, name, capsys, monkeypatch):
    folder, paths = bad_inputs
    monkeypatch.chdir(folder)
    err = _one_line_error(capsys, cli.main(["run", "-m", "mnist", "-i", paths[name], "--software"]))
    assert paths[name] in err


@pytest.mark.parametrize("name", sorted(BAD_ARGUMENTS))
def test_bad_arguments(name, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(BAD_ARGUMENTS[name])
    except SystemExit as exc:
        code = exc.code
    _one_line_error(capsys, code)


def test_the_command_prints_no_traceback(bad_inputs):
    """The installed command's process: one line on stderr and status 2."""
    folder, paths = bad_inputs
    env = dict(os.environ, PYTHONPATH=ROOT)
    for argv in (["run", "-m", "mnist", "-i", paths["npz"]], BAD_ARGUMENTS["huge batch"]):
        done = subprocess.run([sys.executable, "-m", "akida_sim", *argv], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_large_npy_within_the_file_and_budget_loads(tmp_path, capsys):
    path = tmp_path / "frames.npy"
    np.save(path, np.zeros((5, 28, 28, 1), np.uint8))
    assert cli.main(["run", "-m", "mnist", "-i", str(path), "--software", "--json"]) == 0
    assert '"frames": 5' in capsys.readouterr().out
