"""Runs fuzz cases in isolation: each case in a forked child of one worker
process, under an address-space limit and a timeout.

The worker (``python -m tests.fuzz.sandbox``) imports akida_sim once with
``NUMBA_NUM_THREADS=1`` (no threading layer is started, so forking is safe),
warms the kernels up, then forks one child per case. A child sets
``RLIMIT_AS`` and runs ``cases.run(kind, payload)``; the worker reports its
outcome, ``("timeout", ...)`` if it outlives the timeout (then killed), or
``("crash", signal)`` if it dies. Requests and answers are pickled over the
worker's stdin/stdout (the worker is ours: nothing untrusted is unpickled).
"""
import os
import pickle
import resource
import select
import signal
import subprocess
import sys
import time

#: Address-space limit of each case, bytes.
ADDRESS_SPACE = 2 * 2 ** 30
#: Seconds a case may take.
TIMEOUT_S = 30.0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Sandbox:
    """A worker process; ``run(kind, payload)`` returns a case's outcome tuple."""

    def __init__(self):
        env = dict(os.environ, PYTHONPATH=ROOT, NUMBA_NUM_THREADS="1")
        self._process = subprocess.Popen([sys.executable, "-m", "tests.fuzz.sandbox"], cwd=ROOT, env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._receive() == ("ready",)

    def _receive(self):
        return pickle.load(self._process.stdout)

    def run(self, kind, payload, timeout=TIMEOUT_S):
        pickle.dump((kind, payload, timeout), self._process.stdin)
        self._process.stdin.flush()
        return self._receive()

    def close(self):
        self._process.stdin.close()
        self._process.wait(timeout=60)


def _child(kind, payload, write_fd):
    from tests.fuzz import cases
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the worker's stdout carries the answers
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    try:
        outcome = cases.run(kind, payload)
    except MemoryError:
        outcome = ("memory error",)
    except BaseException as exc:  # noqa: BLE001 - reported, judged by the test
        outcome = ("exception", type(exc).__name__, str(exc)[:2000])
    os.write(write_fd, pickle.dumps(outcome))
    os._exit(0)


def _run_case(kind, payload, timeout):
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _child(kind, payload, write_fd)
        finally:
            os._exit(1)
    os.close(write_fd)
    data, deadline = b"", time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            return ("timeout", timeout)
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            data += chunk
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return ("crash", os.WTERMSIG(status))
    return pickle.loads(data) if data else ("crash", "no outcome")


def _serve():
    from tests.fuzz import cases
    cases.warm_up()
    out = sys.stdout.buffer
    pickle.dump(("ready",), out)
    out.flush()
    while True:
        try:
            kind, payload, timeout = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        pickle.dump(_run_case(kind, payload, timeout), out)
        out.flush()


if __name__ == "__main__":
    _serve()
