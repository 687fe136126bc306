#!/usr/bin/env bash
# Installs everything Jicai needs on a bare Debian machine. Safe to run twice:
# system packages only when missing, Python packages only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# The one Python version, named in .python-version; no other interpreter will do.
PYTHON_VERSION=$(tr -d '[:space:]' < .python-version)
PY="python${PYTHON_VERSION}"
runs_named_version() { "$1" -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '${PYTHON_VERSION}')" 2>/dev/null; }

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v "$PY" >/dev/null 2>&1 && "$PY" -c "import ensurepip, venv" 2>/dev/null || missing+=("$PY" "$PY-venv")
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)  # promtool checks and unit-tests the alerting rules
# The console's browser tests drive Debian's Chromium headless shell through its matching driver (no browser download).
command -v chromium-headless-shell >/dev/null 2>&1 || missing+=(chromium-headless-shell)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)  # the screenshots' Chinese labels
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
    echo "apt-get could not install ${missing[*]}." >&2
    echo "Jicai runs on Python ${PYTHON_VERSION} exactly (.python-version): install ${PY} with its venv module, then run this again." >&2
    exit 1
  fi
fi
if ! runs_named_version "$PY"; then
  echo "${PY} ($(command -v "$PY")) does not run Python ${PYTHON_VERSION}, the version .python-version names:" >&2
  "$PY" --version >&2 || true
  echo "refusing to use another interpreter." >&2
  exit 1
fi

if [ -x .venv/bin/python ] && ! runs_named_version .venv/bin/python; then
  echo "==> .venv runs another Python than ${PYTHON_VERSION}: making it anew"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi

# The packages come from uv.lock (hashes checked) through uv, itself installed at the version and hashes
# the lock records for it. Nothing runs when neither the lock, the pyprojects nor the Python version changed.
install_packages() {
  local uv_wanted uv_version
  uv_wanted=$("$PY" deploy/uv_requirement.py)
  uv_version=${uv_wanted%% *}
  if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "${uv_version#uv==}" ]; then
    .venv/bin/python -m ensurepip  # uv sync removes what the lock does not name, pip included
    .venv/bin/python -m pip install --require-hashes --no-deps -r <(echo "$uv_wanted")
  fi
  # Bytecode compiled at install, as pip does: uv leaves it to the first import, which never caches it
  # where PYTHONDONTWRITEBYTECODE is set, so every process would compile every module again.
  UV_PYTHON_DOWNLOADS=never .venv/bin/uv sync --locked --all-packages --compile-bytecode --python .venv/bin/python
}
stamp=$(cat deploy/install.sh .python-version uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml deploy/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.jicai-installed 2>/dev/null)" != "$stamp" ]; then
  echo "==> installing Python packages (locked by uv.lock)"
  # Output goes to a log, shown only when the install fails.
  if ! install_packages > .venv/install.log 2>&1; then
    tail -40 .venv/install.log
    echo "installing the Python packages failed; full log in .venv/install.log" >&2
    echo "(a pyproject changed without the lock? run .venv/bin/uv lock and commit uv.lock)" >&2
    exit 1
  fi
  echo "$stamp" > .venv/.jicai-installed
fi

echo "==> resolving the Kafka broker from Maven Central (cached in .cache/kafka), training its JVMs' CDS archive once"
.venv/bin/python -m jicai_devstack.kafka_cds

echo "==> keeping one initdb's output for the test suite's PostgreSQL clusters (each copies it)"
.venv/bin/python -m jicai_devstack.postgres_initdb
