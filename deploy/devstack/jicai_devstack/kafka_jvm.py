"""The broker's JVM side: jars from Maven Central, the java command line, and CDS.

CDS (class-data sharing): on 2 cores a broker spends ~3.7 s starting, mostly
loading and verifying classes. A dynamic CDS archive cuts that to ~2 s. It is
made opportunistically: a broker started without an archive dumps one when
it exits cleanly (``-XX:ArchiveClassesAtExit``), and ``stop_kafka`` promotes
that dump only after a clean exit (a killed JVM may leave a partial file).
A stale archive (other JDK build, re-resolved jars) is ignored by the JVM;
its name is keyed on the java binary and the jars are wiped with it.
Opt out with ``JICAI_KAFKA_CDS=0``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
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


def java_command(libs: Path, log4j: Path, heap: str = "512m", flags: Sequence[str] = LEAN_JVM_FLAGS) -> list[str]:
    """The JVM command of a dev/test broker (or its tools): test-sized heap, ``LEAN_JVM_FLAGS``."""
    if not shutil.which("java"):
        raise RuntimeError("java not found: Kafka 3.9 needs Java 11+ (apt-get install -y openjdk-17-jre-headless)")
    return ["java", "-Xms256m", f"-Xmx{heap}", "-server", *flags, "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true", f"-Dlog4j.configuration=file:{log4j}",
            "-cp", f"{libs}/*"]


def _archive(libs: Path, flags: Sequence[str]) -> Path | None:
    if os.environ.get("JICAI_KAFKA_CDS", "1") == "0":
        return None
    java = shutil.which("java")
    if not java:
        return None
    real = Path(java).resolve()
    # An archive dumped under other GC/JIT flags may be refused (silently, -Xlog:cds=off): a key per flag set.
    key = hashlib.sha1(f"{real}:{real.stat().st_mtime_ns}:{tuple(flags)}".encode()).hexdigest()[:12]
    return libs.parent / "cds" / f"kafka-{key}.jsa"


def cds_flags(libs: Path, flags: Sequence[str] = LEAN_JVM_FLAGS) -> tuple[list[str], str | None]:
    """JVM flags using the archive for a JVM of ``flags``, or dumping a new one; and the pending dump path."""
    archive = _archive(libs, flags)
    if archive is None:
        return [], None
    quiet = ["-Xlog:cds=off", "-Xlog:cds+dynamic=off"]  # mismatch/dump chatter, not errors
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", *quiet], None
    archive.parent.mkdir(parents=True, exist_ok=True)
    pending = archive.with_name(f"{archive.stem}.{uuid.uuid4().hex[:8]}.pending")
    return [f"-XX:ArchiveClassesAtExit={pending}", *quiet], str(pending)


def promote_cds(pending: str | None, clean_exit: bool) -> None:
    """Keep a dump written during a clean JVM exit; drop it otherwise."""
    if not pending:
        return
    path = Path(pending)
    if clean_exit and path.is_file() and path.stat().st_size > 0:
        path.replace(path.with_name(path.name.split(".")[0] + ".jsa"))
    else:
        path.unlink(missing_ok=True)
