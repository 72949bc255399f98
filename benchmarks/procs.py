"""Child processes with a deadline: a hung peer, server or backend run cannot hang the suite.

Every process the suite starts (a backend's run, an isolated peer, uvicorn)
goes through here. Each child gets a session (and so a process group) of its
own, so that on timeout the whole tree is stopped: the child and whatever it
started (a backend run starts its isolated peers; uvicorn ``--workers 2``
forks its workers). ``subprocess.run(timeout=...)`` would kill only the
direct child and leave its children running, holding ports and connections.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

GRACE = 5.0  # seconds between SIGTERM and SIGKILL


class ChildTimeout(RuntimeError):
    """A child process did not finish in time; it and its descendants were stopped."""

    def __init__(self, cmd: Sequence[str], timeout: float) -> None:
        super().__init__(
            f"`{' '.join(cmd[:4])} ...` did not finish in {timeout:g} s; "
            "it was stopped with everything it started"
        )
        self.timeout = timeout


def start(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``Popen`` in a new session, so :func:`stop_tree` can reach its descendants."""
    return subprocess.Popen(list(cmd), start_new_session=True, **kwargs)


def stop_tree(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = GRACE
) -> int:
    """Send ``sig`` to the child's process group, then SIGKILL it after ``grace`` seconds.

    Only the group this module created is signalled (its id is the child's
    pid), never anything else on the machine. Returns the child's exit code.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        return proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait()


def run(cmd: Sequence[str], timeout: float, **kwargs: Any) -> int:
    """Run ``cmd`` to completion and return its exit code; :class:`ChildTimeout` after ``timeout``.

    On timeout (or an exception such as Ctrl-C while waiting) the child's
    whole process group is stopped before raising.
    """
    proc = start(cmd, **kwargs)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        stop_tree(proc)
        raise ChildTimeout(cmd, timeout) from None
    except BaseException:  # Ctrl-C in the parent: do not leave the tree behind
        stop_tree(proc)
        raise
    return code
