"""uvicorn's server, woken by a stop signal instead of looking for one ten times a second.

``uvicorn.Server.main_loop`` sleeps 0.1 s between looks at ``should_exit`` (set by its SIGINT/SIGTERM handler): ten
event-loop wake-ups a second for a process with nothing to do, and up to 0.1 s before a stop begins. Here the handler
also wakes the loop, which otherwise looks once a second (``on_tick`` refreshes the ``Date`` header at that pace anyway).
"""
from __future__ import annotations

import asyncio
import contextlib
import sys
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

TICK_S = 1.0
"""How often the server looks at its state when no signal comes (``on_tick``: the ``Date`` header, request limits)."""

_TICKS_PER_S = 10
"""``on_tick`` counts uvicorn's 0.1 s ticks: it refreshes the ``Date`` header on every tenth."""


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._wake is not None:
            loop, exit_asked = self._wake
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits
                loop.call_soon_threadsafe(exit_asked.set)

    async def main_loop(self) -> None:
        exit_asked = asyncio.Event()
        self._wake = asyncio.get_running_loop(), exit_asked
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + _TICKS_PER_S) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(exit_asked.wait(), TICK_S)
            should_exit = await self.on_tick(counter)


def serve(config: uvicorn.Config) -> None:
    """``uvicorn.run`` for one process: serve ``config``'s app until SIGINT/SIGTERM; exit 3 if it could not start."""
    config.load_app()
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
