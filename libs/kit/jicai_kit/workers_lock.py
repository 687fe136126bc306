"""One process of an instance runs the relay and consumers when uvicorn serves it with several.

``jicai-serve --workers N`` (``JICAI_WEB_CONCURRENCY``) serves the API from N
processes on one port; each would otherwise start its own relay and
consumers. Instead they compete for an exclusive ``flock`` on a file named
after the service and port: the holder runs them, the others only serve
HTTP and try again every second, so when the holder dies (the kernel drops
its lock) a sibling takes over. Several instances on several machines still
share the consumer groups as before (each instance has its own lock file).
"""
from __future__ import annotations

import asyncio
import fcntl
import os
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
