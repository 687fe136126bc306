"""The broker's JVM side: jars from Maven Central, the java command line, and its CDS archive.

CDS (application class-data sharing): a JVM started with a dynamic archive maps the classes an earlier JVM
loaded (parsed, verified, linked) instead of reading them from the jars: a broker start costs ~2.4 CPU-s
instead of ~3.8, a tool's ~0.95 instead of ~1.3 (``bench.kafka_broker``). ``make install`` trains the archive
(``kafka_cds.ensure_cds_archive``: a broker started with ``-XX:ArchiveClassesAtExit``, a little traffic, a clean
stop); failing that, the first broker to start without one dumps it when it stops cleanly. Every JVM of
``java_command`` (brokers and tools) then maps it. The archive's name is keyed on the JDK, every jar (path, size,
mtime: what the JVM checks) and the JVM flags, so another JDK, re-resolved or copied jars or other flags make a
new one rather than a stale archive the JVM silently ignores. A dump is promoted only after a clean exit and a
``-Xshare:on`` run that maps it: Java 17 refuses a mismatched archive quietly (``-Xshare:auto``) but dies of
SIGBUS on a truncated one. Opt out with ``JICAI_KAFKA_CDS=0``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from . import _proc

KAFKA_VERSION = "3.9.1"  # keep in sync with deploy/kafka/pom.xml
POM = _proc.REPO_ROOT / "deploy" / "kafka" / "pom.xml"
_MARKER = ".complete"


def default_cache_dir() -> Path:
    """``<repo>/.cache/kafka/<version>`` (gitignored)."""
    return _proc.REPO_ROOT / ".cache" / "kafka" / KAFKA_VERSION


def ensure_jars(cache_dir: Path | str | None = None) -> Path:
    """Resolve the broker jars into ``<cache_dir>/libs`` with Maven; return that dir.

    Skipped when the marker file says the jars match the current pom, so an
    edited pom re-resolves. Stale jars are wiped first since ``libs/*`` is
    the classpath.
    """
    cache = Path(cache_dir or default_cache_dir())
    libs = cache / "libs"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    with _proc.locked(cache / ".lock"):
        marker = libs / _MARKER
        if marker.is_file() and marker.read_text().strip() == digest:
            return libs
        if not shutil.which("mvn"):
            raise RuntimeError("Maven (mvn) not found: apt-get install -y maven")
        shutil.rmtree(libs, ignore_errors=True)
        shutil.rmtree(cache / "cds", ignore_errors=True)
        shutil.rmtree(cache / "formatted", ignore_errors=True)  # kafka._format_storage's, of the old jars
        cmd = ["mvn", "-q", "-B", "-Dstyle.color=never", "-f", str(POM),
               "dependency:copy-dependencies", "-DincludeScope=runtime",
               f"-DoutputDirectory={libs}"]
        print(f"[devstack] resolving Kafka {KAFKA_VERSION} jars: {' '.join(cmd)}", flush=True)
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0 or not list(libs.glob("kafka_2.13-*.jar")):
            raise RuntimeError(
                f"mvn failed ({res.returncode}):\n{res.stdout[-4000:]}{res.stderr[-4000:]}")
        marker.write_text(digest + "\n")
    return libs


#: JVM flags for a dev or test broker, not Kafka's own (G1, both JIT tiers), which production keeps (the
#: apache/kafka image of docker-compose.yml). A local broker serves a few clients on a shared 2-core machine:
#: the C2 compiler was its largest CPU cost when idle and ~30 % of its start, G1 keeps concurrent threads, and
#: the perf-data file is written every tick. With the broker settings of ``kafka.LEAN``, per broker: start
#: 5.3–9.2 → 2.4–2.8 CPU-s, settled idle ~2 → ~0.6 CPU-s a minute (``bench.kafka_broker``, bench/RESULTS.md).
LEAN_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData")


#: Kafka's own (``kafka-run-class.sh``): the baseline ``bench.kafka_broker`` measures the lean flags against.
KAFKA_JVM_FLAGS = ("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20")


def java_command(libs: Path, log4j: Path, heap: str = "512m", flags: Sequence[str] = LEAN_JVM_FLAGS,
                 *, dump_cds_to: Path | None = None) -> list[str]:
    """The JVM command of a dev/test broker (or its tools): test-sized heap, ``flags``, the CDS archive if there is
    one (or, with ``dump_cds_to``, dumping one there at exit: see ``claim_cds_dump``)."""
    if not shutil.which("java"):
        raise RuntimeError("java not found: Kafka 3.9 needs Java 11+ (apt-get install -y openjdk-17-jre-headless)")
    if dump_cds_to is not None:
        cds = [f"-XX:ArchiveClassesAtExit={dump_cds_to}", *_CDS_QUIET]
    else:
        archive = cds_archive(libs, flags)
        cds = [f"-XX:SharedArchiveFile={archive}", *_CDS_QUIET] if archive and archive.is_file() else []
    return ["java", "-Xms256m", f"-Xmx{heap}", "-server", *flags, *cds, "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true", f"-Dlog4j.configuration=file:{log4j}",
            "-cp", classpath(libs)]


def run_tool(libs: Path, log4j: Path, args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a Kafka tool's JVM (``args``: main class and its arguments) to its end; once more without the CDS archive
    if it failed and the archive turns out broken (Java 17 dies of SIGBUS on a truncated one)."""
    res = subprocess.run(java_command(libs, log4j, "256m") + list(args), capture_output=True, text=True, cwd=cwd)
    if res.returncode != 0 and discard_cds_unless_mapped(libs, LEAN_JVM_FLAGS):
        res = subprocess.run(java_command(libs, log4j, "256m") + list(args), capture_output=True, text=True, cwd=cwd)
    return res


def classpath(libs: Path) -> str:
    """The jars, sorted: one fixed string, as a CDS archive records it (``libs/*`` expands in directory order)."""
    return ":".join(str(jar) for jar in sorted(libs.glob("*.jar")))


#: A mismatched archive is no error (the JVM runs without it) and a dump's progress no news: kafka.out stays quiet.
_CDS_QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")
#: A claim older than this is from a JVM that never stopped cleanly (or a ``make up`` broker still running).
_CLAIM_STALE_S = 900.0


def cds_archive(libs: Path, flags: Sequence[str]) -> Path | None:
    """Where the archive for JVMs of ``flags`` on these jars and this JDK lives (or None: CDS off, no java)."""
    java = shutil.which("java")
    if os.environ.get("JICAI_KAFKA_CDS", "1") == "0" or not java:
        return None
    real = Path(java).resolve()
    libjvm = real.parent.parent / "lib" / "server" / "libjvm.so"
    runtime = hashlib.sha256()
    for part in (real, libjvm, *sorted(libs.glob("*.jar"))):
        if part.exists():
            stat = part.stat()
            runtime.update(f"{part}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    flags_key = hashlib.sha256("\0".join(flags).encode()).hexdigest()[:8]
    return libs.parent / "cds" / f"kafka-{runtime.hexdigest()[:12]}-{flags_key}.jsa"


def claim_cds_dump(libs: Path, flags: Sequence[str]) -> Path | None:
    """A path for this JVM to dump the missing archive to at exit (``java_command(dump_cds_to=...)``), or None.

    None when the archive exists or another JVM is dumping it: one dump (~4 CPU-s) rather than one per xdist
    worker. The dump goes to a file of its own; ``promote_cds`` renames it into place, so a reader sees the
    whole archive or none.
    """
    archive = cds_archive(libs, flags)
    if archive is None or archive.is_file():
        return None
    archive.parent.mkdir(parents=True, exist_ok=True)
    claim = archive.with_suffix(".claim")
    with contextlib.suppress(FileNotFoundError):
        if time.time() - claim.stat().st_mtime > _CLAIM_STALE_S:
            claim.unlink(missing_ok=True)
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return None
    return archive.with_name(f"{archive.stem}.{uuid.uuid4().hex[:8]}.pending")


def _archive_of(pending: Path) -> Path:
    return pending.with_name(pending.name.split(".")[0] + ".jsa")


def promote_cds(pending: str | Path | None, flags: Sequence[str], clean_exit: bool) -> None:
    """Put a dump written during a clean JVM exit in place if a JVM maps it; drop it otherwise. Releases the claim."""
    if not pending:
        return
    path = Path(pending)
    archive = _archive_of(path)
    try:
        if clean_exit and path.is_file() and cds_maps(path, path.parent.parent / "libs", flags):
            path.replace(archive)
            runtime = archive.name.split("-")[1]
            for other in archive.parent.glob("kafka-*.jsa"):  # of other jars or another JDK: never mapped again
                if other.name.split("-")[1] != runtime:
                    other.unlink(missing_ok=True)
    finally:
        path.unlink(missing_ok=True)
        archive.with_suffix(".claim").unlink(missing_ok=True)


def cds_maps(archive: Path, libs: Path, flags: Sequence[str]) -> bool:
    """Whether a JVM of ``flags`` on these jars maps ``archive`` (``-Xshare:on`` fails rather than run without)."""
    res = subprocess.run(["java", *flags, "-Xshare:on", f"-XX:SharedArchiveFile={archive}", *_CDS_QUIET,
                          "-XX:ErrorFile=/dev/null",  # a broken archive's crash report is no news
                          "-cp", classpath(libs), "-version"], capture_output=True)
    return res.returncode == 0


def discard_cds_unless_mapped(libs: Path, flags: Sequence[str], pid: int | None = None) -> bool:
    """Remove the archive of ``flags`` if the JVM ``pid`` (by default a ``-Xshare:on`` probe) does not map it.

    A broker that died starting with it, or runs without it (silently refused), says it is stale or broken:
    gone, the next clean stop dumps a new one. True if one was removed.
    """
    archive = cds_archive(libs, flags)
    if archive is None or not archive.is_file():
        return False
    if pid is not None:
        try:
            given = str(archive).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
            if not given or str(archive) in Path(f"/proc/{pid}/maps").read_text():
                return False
        except OSError:  # it ended meanwhile: no evidence either way
            return False
    elif cds_maps(archive, libs, flags):
        return False
    archive.unlink(missing_ok=True)
    return True
