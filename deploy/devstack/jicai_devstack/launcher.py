"""A pre-imported launcher of ``jicai-serve`` and ``jicai-console`` processes: a fork server, for the test suite only.

A service start spends three quarters of its CPU importing (FastAPI, pydantic, SQLAlchemy, aiokafka, Alembic,
the service's own modules) before it does anything, and the end-to-end tests start dozens. The launcher is a
process that imports all that once, then forks a child per start (one for the whole run, reached by the xdist
workers at a socket; else one per test process, started on its first request), as gunicorn's ``--preload`` or
multiprocessing's ``forkserver`` do. The child becomes exactly what
``jicai-serve NAME --port PORT`` would be: its own session, the environment it was given (replaced wholesale
before anything reads a setting), its working directory, output to its log file, the command line
``jicai-serve NAME --port PORT`` in ``/proc/<pid>/cmdline`` (``setproctitle``), then the code of
``jicai_kit.serve.cli`` (migrations, uvicorn, relay, consumers). The heads of each service's migration history are read
ahead too (package data): a child compares its database with them in one query. Its pid is the service's: SIGTERM stops it
gracefully, SIGKILL is a crash, and it exits on its own when it fails.

What is *not* imported ahead: each service's ``entrypoints.app``, which builds the app from the settings of the
environment when imported; it is imported in the child, after its environment is in place. Nothing the
launcher imports may read settings or the environment, open a socket or a database connection, or start a
thread or an event loop: the launcher checks the last three before every fork (``_check_quiet``). Ours read the
environment when called (``jicai_events.topics.namespace``, the policy book's directories, the settings classes);
of the libraries, only debugging switches the tests never set are read on import (``AIOKAFKA_NO_EXTENSIONS``,
``PSYCOPG_WAIT_FUNC``, typer's ``TERMINAL_WIDTH``). Per-process values made on import are made again in a child
(``jicai_kit.logs``' request-id prefix, ``random``'s seed); the children of one launcher share its hash seed.

The operations console (``jicai-console serve``, ``jicai-console add-users FILE``) is no registered service, but a
program of the launcher too (``PROGRAMS``): a child becomes it as it becomes ``jicai-serve``, running the script's ``cli``.
Its modules (0.3 CPU-s on top of the services') are imported on the launcher's first request for it, not at its start:
only the test process that starts a console pays for them. Its app module is imported ahead too, as it builds its app
only when uvicorn asks for ``app`` (in the child).

Protocol: one JSON object a line on the launcher's stdin (``{"argv", "cwd", "log", "env", "status"}``, ``argv[0]`` the
path of a program's script), answered by one on its stdout (``{"pid"}`` or ``{"error"}``); started with ``--listen PATH``
(``Launcher(log, listen=PATH)``), the same on each connection to that UNIX socket (``Launcher(log, connect=PATH)``). A one-off command
(``Launcher.run``: ``jicai-serve NAME --rebuild-read-models``, ``jicai-console add-users FILE``) also names a ``status``
file, where the child writes its exit status as it ends.
End of input on stdin (the process that started it ended, however it ended) ends the launcher; the services it started run on, as
``spawn_detached`` ones do, until the tests stop them.
The launcher ignores SIGCHLD, so the kernel reaps its children as they exit (a dead service leaves no zombie).

Opt-in: ``use(Launcher(log))`` turns it on for the calling process (tests/conftest.py does); ``make up``, Docker and
production run the ``jicai-serve`` and ``jicai-console`` commands themselves, and so does ``tests/infra/test_wheels.py``.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import pkgutil
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_APP_MODULE = ".entrypoints.app"
"""Builds the app from the environment's settings on import: imported by each child, never ahead."""
_RUNTIME_MODULES = (
    # What jicai-serve imports when it runs rather than when it is imported (serve.py keeps its module light).
    "jicai_kit.serve", "jicai_kit.migrations", "jicai_kit.http", "jicai_kit.workers_lock",
    "alembic.command", "alembic.config", "alembic.runtime.migration", "alembic.runtime.environment", "alembic.script",
    "alembic.ddl.postgresql", "alembic.context", "alembic.op",
    "uvicorn", "uvicorn.main", "uvicorn.config", "uvicorn.server", "uvicorn.lifespan.on", "uvicorn.loops.auto",
    "uvicorn.loops.uvloop", "uvicorn.protocols.http.httptools_impl", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.middleware.proxy_headers", "uvicorn.logging", "uvicorn.supervisors",
    "sqlalchemy.dialects.postgresql.psycopg", "sqlalchemy.ext.asyncio",
)


# -- the launcher process ------------------------------------------------------------------------------------


def _service_modules() -> list[str]:
    """Every module of every registered service, but its app module and its migrations (Alembic loads those)."""
    from jicai_kit.services import registered

    names: list[str] = []
    for service in registered().values():
        package = importlib.import_module(service.package)
        for module in pkgutil.walk_packages(package.__path__, service.package + "."):
            skipped = module.name == service.package + _APP_MODULE or module.name.startswith(service.package + ".migrations")
            if not skipped:
                names.append(module.name)
    return names


def preimport() -> int:
    """Import what a service imports (without building any app), read each service's migration heads and the packaged
    policy book (``jicai-serve``'s imports); returns how many modules are loaded."""
    from jicai_kit import migrations
    from jicai_kit.services import registered
    from jicai_policy import load_policy_book
    from jicai_policy.loading import PACKAGED_PROFILE_DIR

    for name in (*_RUNTIME_MODULES, *_service_modules()):
        try:
            importlib.import_module(name)
        except ImportError:
            if not name.startswith(("uvicorn.", "sqlalchemy.dialects.")):
                raise  # optional server parts (a websocket library) may be missing; ours may not
    for service in registered().values():
        migrations.heads(service.package)  # package data, no setting: each child's start compares its database with them
    # Package data, named here rather than by the environment: a child whose environment names no other directories
    # finds the book parsed and validated (jicai_policy.book's cache by file contents), not 7 ms of its start.
    load_policy_book(PACKAGED_PROFILE_DIR, ())
    _check_no_app_built()
    return len(sys.modules)


_CONSOLE = "jicai_console"


def preimport_console() -> int:
    """Import what ``jicai-console`` imports (its app module too: it builds no app on import) and read the console's
    migration heads; returns how many modules are loaded."""
    from jicai_kit import migrations

    package = importlib.import_module(_CONSOLE)
    for module in pkgutil.walk_packages(package.__path__, _CONSOLE + "."):
        if not module.name.startswith(_CONSOLE + ".migrations"):
            importlib.import_module(module.name)
    migrations.heads(_CONSOLE)
    _check_no_app_built()
    return len(sys.modules)


def _check_no_app_built() -> None:
    from jicai_kit.services import registered

    built = sorted(name for name in sys.modules if name in {service.package + _APP_MODULE for service in registered().values()})
    # The console's app module builds its app when ``app`` is asked for (module ``__getattr__``): none may be kept on it.
    console_app = sys.modules.get(_CONSOLE + _APP_MODULE)
    if console_app is not None and "app" in vars(console_app):
        built.append(console_app.__name__)
    if built:
        raise RuntimeError(f"{built} imported ahead (by another module): the children would serve the launcher's settings")


@dataclass(frozen=True)
class Program:
    cli_module: str
    """The module whose ``cli()`` the program's script runs."""
    preimport: Callable[[], int]
    """Imports what the program imports when it runs, in the launcher (once, before its first child)."""


PROGRAMS = {
    "jicai-serve": Program("jicai_kit.serve", preimport),
    "jicai-console": Program("jicai_console.entrypoints.cli", preimport_console),
}
"""What a child can become, by the name of its script (in the environment's ``bin``, next to the interpreter)."""


def knows(command: list[str]) -> bool:
    """Whether ``command`` is a program the launcher can become (else the caller runs it as a command)."""
    return Path(command[0]).name in PROGRAMS


def _open_files() -> dict[int, str]:
    described = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            described[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:
            continue  # the listing's own descriptor, closed by now
    return described


def _check_quiet(inherited: set[int]) -> None:
    """Nothing a child must not share: one thread, no event loop, no file opened since the launcher started
    (a socket, a database connection; each child closes all but its stdin, stdout and stderr anyway)."""
    import asyncio

    threads = os.listdir("/proc/self/task")
    if len(threads) != 1 or threading.active_count() != 1:
        raise RuntimeError(f"launcher runs {len(threads)} threads ({threading.enumerate()}): a fork would copy one")
    if asyncio._get_running_loop() is not None:
        raise RuntimeError("launcher runs an event loop")
    opened = {fd: target for fd, target in _open_files().items() if fd not in inherited}
    if opened:
        raise RuntimeError(f"launcher holds files it opened (sockets, connections?) a child would share: {opened}")


def _become(request: dict[str, Any]) -> None:
    """In the forked child: turn into the command ``argv`` (``jicai-serve NAME --port PORT``, ``jicai-console serve
    --port PORT``) and run it; never returns."""
    import setproctitle

    program = importlib.import_module(PROGRAMS[Path(request["argv"][0]).name].cli_module)
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the launcher's auto-reaping is not the service's
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # 0 and 1 were the launcher's request pipe: the child must not hold it (nor read requests)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # only stdin, stdout and stderr, as spawn_detached's Popen leaves
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the launcher's had requests buffered; this one reads /dev/null
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    setproctitle.setproctitle(" ".join(sys.argv))
    code: int | str | None = 1  # an exception's, as the interpreter's
    try:
        program.cli()  # typer ends it with SystemExit, as it ends the program's script
        code = 0
    except SystemExit as exit_:
        code = exit_.code
        raise
    finally:
        if request.get("status"):  # a command run to its end: its exit status for the client, who is not its parent
            Path(request["status"]).write_text(str(0 if code is None else code if isinstance(code, int) else 1))
    sys.exit(0)


def _prepare(program: str, prepared: set[str]) -> None:
    """``program``'s imports, once: made part of what the children share copy-on-write, out of their collector's walk."""
    if program not in PROGRAMS:
        raise RuntimeError(f"no program {program!r} (the launcher's: {sorted(PROGRAMS)})")
    if program not in prepared:
        PROGRAMS[program].preimport()
        gc.collect()
        gc.freeze()  # what the imports built is shared copy-on-write; no child's collector walks or touches it
        prepared.add(program)


def _serve_requests(listener: socket.socket | None, inherited: set[int], prepared: set[str]) -> None:
    """Answer requests, a JSON line each: from stdin (answered on stdout) and, with ``listener``, from every process
    connected to it (answered on its connection), until stdin ends."""
    waiting = selectors.DefaultSelector()
    connections: dict[int, socket.socket] = {}
    inherited.add(waiting.fileno())
    waiting.register(0, selectors.EVENT_READ)
    if listener is not None:
        waiting.register(listener, selectors.EVENT_READ)
    unread: dict[int, bytes] = {0: b""}
    while True:
        for key, _ in waiting.select():
            if listener is not None and key.fileobj is listener:
                connection, _ = listener.accept()
                connections[connection.fileno()] = connection
                inherited.add(connection.fileno())
                unread[connection.fileno()] = b""
                waiting.register(connection, selectors.EVENT_READ)
                continue
            fd = key.fd
            data = os.read(fd, 65536)
            if not data:
                if fd == 0:
                    return  # the process that started the launcher ended
                waiting.unregister(fd)
                inherited.discard(fd)
                del unread[fd]
                connections.pop(fd).close()
                continue
            unread[fd] += data
            while b"\n" in unread[fd]:
                line, unread[fd] = unread[fd].split(b"\n", 1)
                answer = _fork_for(json.loads(line), inherited, prepared, [waiting, *connections.values(), listener])
                os.write(1 if fd == 0 else fd, json.dumps(answer).encode() + b"\n")


def _fork_for(request: dict[str, Any], inherited: set[int], prepared: set[str], own: list[Any]) -> dict[str, Any]:
    """Fork the child ``request`` asks for; in the launcher, its answer (``{"pid"}`` or ``{"error"}``)."""
    try:
        _prepare(Path(request["argv"][0]).name, prepared)
        _check_quiet(inherited)
        pid = os.fork()
    except (OSError, RuntimeError, ImportError) as exc:
        return {"error": str(exc)}
    if pid == 0:
        # The launcher's selector and sockets forget their descriptors (``_become`` closes every one): an object
        # closing its number later would close whatever the child has opened under it since.
        for thing in own:
            if isinstance(thing, socket.socket):
                thing.detach()
            elif isinstance(thing, selectors.BaseSelector):
                thing.close()  # the child's copy of its descriptor
        _become(request)  # SystemExit from here ends the child, as it ends the program's script
    return {"pid": pid}


def main() -> None:
    import setproctitle

    # Claims the memory of argv and environ for the titles now, while the environment is the one the process started
    # with: a child replaces it before it sets its title, and the title would then have no room (cmdline unchanged).
    setproctitle.getproctitle()
    listener, listening = None, sys.argv[2] if sys.argv[1:2] == ["--listen"] else None
    if listening is not None:  # before the imports: a process connecting meanwhile waits for its answer
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(listening)
        listener.listen()
    launcher = os.getpid()
    inherited = set(_open_files())
    gc.disable()  # as jicai-serve while importing; the children's app start-up freezes and turns it on again
    prepared: set[str] = set()
    _prepare("jicai-serve", prepared)  # the console's imports wait for a request for it
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps exited children: no zombies pile up
    _check_quiet(inherited)
    try:
        _serve_requests(listener, inherited, prepared)
    finally:
        if listening is not None and os.getpid() == launcher:  # not in a child ending (its SystemExit passes here)
            os.unlink(listening)


# -- the client, in the test process -------------------------------------------------------------------------


class Launcher:
    """The launcher process of this (test) process, started on the first ``spawn``; or, with ``listen``, one that other
    processes (the xdist workers) reach too, at that socket; or, with ``connect``, one that another process started."""

    def __init__(self, log: Path, *, listen: Path | None = None, connect: Path | None = None) -> None:
        self.log = log
        self._listen = listen
        self._connect = connect
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: socket.socket | None = None
        self._answers: IO[bytes] | None = None
        self._lock = threading.Lock()

    def spawn(self, command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> int:
        """Start ``command`` (``jicai-serve NAME --port PORT``, ``jicai-console serve --port PORT``: its script's path
        and arguments, a program the launcher ``knows``) from the launcher; returns its pid."""
        return self._fork(command, cwd, log, env)

    def run(self, command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (a one-off: ``jicai-serve NAME --rebuild-read-models``, ``jicai-console add-users FILE``) from
        the launcher to its end, as ``subprocess.run`` would; its output (stdout and stderr, merged) is in both fields."""
        with tempfile.TemporaryDirectory(prefix="jicai-launched-") as scratch:
            output, status = Path(scratch) / "output", Path(scratch) / "status"
            pid = self._fork(command, cwd, output, env, status)
            try:
                exited = os.pidfd_open(pid)  # not our child (the launcher's): a pidfd is readable once it exits
            except ProcessLookupError:
                exited = None  # done already
            if exited is not None:
                try:
                    if not select.select([exited], [], [], timeout)[0]:
                        os.kill(pid, signal.SIGKILL)
                        raise subprocess.TimeoutExpired(command, timeout, output.read_text())
                finally:
                    os.close(exited)
            said = output.read_text() if output.exists() else ""
            code = int(status.read_text()) if status.exists() else -signal.SIGKILL  # ended by a signal
        return subprocess.CompletedProcess(command, code, said, said)

    def _fork(self, command: list[str], cwd: Path, log: Path, env: dict[str, str], status: Path | None = None) -> int:
        request = {"argv": command, "cwd": str(cwd), "log": str(log), "env": env, "status": str(status) if status else None}
        with self._lock:
            ask, answers = self._channel()
            try:
                ask(json.dumps(request).encode() + b"\n")
                answer = answers.readline()
            except (BrokenPipeError, ConnectionResetError):
                answer = b""
            if not answer:
                from jicai_devstack._proc import tail

                self._drop_connection()
                ended = f"({self._process.poll()})" if self._process is not None else f"(at {self._connect})"
                raise RuntimeError(f"the service launcher exited {ended}:\n{tail(self.log)}")
        reply = json.loads(answer)
        if "error" in reply:
            raise RuntimeError(f"the service launcher could not start {' '.join(command)}: {reply['error']}")
        pid: int = reply["pid"]
        return pid

    def _channel(self) -> tuple[Callable[[bytes], None], IO[bytes]]:
        """How to send a request and where its answer comes: the pipes of our own launcher, or a connection to another's."""
        if self._connect is None:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            stdin = process.stdin

            def ask(line: bytes) -> None:
                stdin.write(line)
                stdin.flush()

            return ask, process.stdout
        if self._connection is None:
            self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._connection.connect(str(self._connect))
            self._answers = self._connection.makefile("rb")
        assert self._answers is not None
        return self._connection.sendall, self._answers

    def _drop_connection(self) -> None:
        if self._answers is not None:
            self._answers.close()
        if self._connection is not None:
            self._connection.close()
        self._connection = self._answers = None

    def start(self) -> None:
        """Start the launcher now, without waiting for it: its imports overlap what the caller does before its first
        ``spawn`` (a test creating its databases). Another process's launcher (``connect``) runs already."""
        if self._connect is None:
            with self._lock:
                self._started()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            listening = ["--listen", str(self._listen)] if self._listen is not None else []
            if self._listen is not None:
                self._listen.unlink(missing_ok=True)  # a killed run's
            with self.log.open("ab") as err:
                # -u: unbuffered output, as PYTHONUNBUFFERED=1 gives a service (its log is read while it runs).
                self._process = subprocess.Popen(
                    [sys.executable, "-u", "-m", "jicai_devstack.launcher", *listening], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=err, start_new_session=True,
                )
        return self._process

    @property
    def pid(self) -> int | None:
        """The launcher process's, once started (by this process)."""
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        """End our launcher (its services run on) and wait for it; or leave another's."""
        with self._lock:
            self._drop_connection()
            if self._process is not None:
                assert self._process.stdin is not None and self._process.stdout is not None
                self._process.stdin.close()
                self._process.stdout.close()
                self._process.wait(30)
                self._process = None


_ACTIVE: Launcher | None = None


def use(preloaded: Launcher | None) -> None:
    """Start registered services from ``preloaded`` in this process from now on (``None``: as commands again)."""
    global _ACTIVE
    _ACTIVE = preloaded


def active() -> Launcher | None:
    """The launcher ``use`` turned on, if any."""
    return _ACTIVE


if __name__ == "__main__":
    main()
