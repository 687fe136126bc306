"""One process of an instance runs the relay and consumers when uvicorn serves it with several.

``jicai-serve --workers N`` (``JICAI_WEB_CONCURRENCY``) serves the API from N
processes on one port; each would otherwise start its own relay and
consumers. Instead they compete for an exclusive ``flock`` on a file named
after the service and port: the holder runs them, the others only serve
HTTP and try again every second, so when the holder dies (the kernel drops
its lock) a sibling takes over. Several instances on several machines still
share the consumer groups as before (each instance has its own lock file).

Each of those processes also ends when the process that spawned it does (``end_with_supervisor``): uvicorn's
workers outlive a supervisor killed with SIGKILL (the OOM killer, a ``kill -9``, a harness timing out), and went on
serving the port and running the relay and consumers, unseen, until someone found them.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import tempfile
from pathlib import Path

from jicai_kit.runtime import ServiceRuntime

RETRY_S = 1.0


def lock_path(service: str, port: int) -> Path:
    """The lock file of the instance serving ``service`` on ``port`` of this machine."""
    return Path(tempfile.gettempdir()) / f"jicai-{service}-{port}.workers.lock"


async def run_workers_when_leading(runtime: ServiceRuntime, path: str) -> None:
    """Wait for the instance's lock, then run the runtime's workers until cancelled (the lock goes with the process)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(RETRY_S)
        runtime.start_workers()
        await asyncio.Event().wait()
    finally:
        os.close(fd)  # releases the lock; runtime.stop() stops the workers


async def end_with_supervisor(supervisor: int) -> None:
    """Until cancelled: when ``supervisor`` (the pid of uvicorn's supervisor, which spawned this process) ends, however
    it ends, stop this process as a SIGTERM would (uvicorn's graceful shutdown: requests in flight answered, the
    workers stopped, the lock released).

    The pid comes from jicai-serve, not ``os.getppid()`` here: a process the supervisor spawned just before it died
    is still importing then, and by its start-up its parent is already init. Waits on a pidfd of the supervisor
    (Linux 5.3+): readable once it exits, so nothing polls; elsewhere it looks at the parent once a second."""
    pidfd = None
    if not hasattr(os, "pidfd_open"):
        while os.getppid() == supervisor:
            await asyncio.sleep(RETRY_S)
    else:
        with contextlib.suppress(ProcessLookupError):  # else it ended (and was reaped) before this process started
            pidfd = os.pidfd_open(supervisor)
    if pidfd is not None:
        try:
            if os.getppid() == supervisor:  # else the pid is no longer our supervisor's
                loop = asyncio.get_running_loop()
                ended = asyncio.Event()
                loop.add_reader(pidfd, ended.set)
                try:
                    await ended.wait()
                finally:
                    loop.remove_reader(pidfd)
        finally:
            os.close(pidfd)
    logging.getLogger(__name__).warning("the supervisor (pid %d) has ended: stopping this API process", supervisor)
    signal.raise_signal(signal.SIGTERM)
