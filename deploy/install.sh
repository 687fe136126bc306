#!/usr/bin/env bash
# Installs everything Jicai needs on a bare Debian machine. Safe to run twice:
# system packages only when missing, Python packages only when the pins changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v python3.11 >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
# The console's browser tests drive Debian's headless Chromium through its matching driver (no browser download).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)  # the screenshots' Chinese labels
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi

PACKAGES=(libs/events libs/policy libs/kit services/contracts services/orders services/settlement services/alerts services/console deploy/devstack)
TOOLS=(pytest pytest-asyncio hypothesis httpx aiohttp pyyaml jsonschema ruff mypy selenium)
stamp=$( { cat constraints.txt "${PACKAGES[@]/%//pyproject.toml}"; echo "${TOOLS[*]}"; } | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.jicai-installed 2>/dev/null)" != "$stamp" ]; then
  echo "==> installing Python packages (pinned by constraints.txt)"
  args=()
  for p in "${PACKAGES[@]}"; do args+=(-e "$p"); done
  # pip's output goes to a log, shown only when the install fails.
  if ! { .venv/bin/pip install --upgrade pip \
         && .venv/bin/pip install -c constraints.txt "${args[@]}" "${TOOLS[@]}"; } \
       > .venv/install.log 2>&1; then
    tail -40 .venv/install.log
    echo "pip install failed; full log in .venv/install.log" >&2
    exit 1
  fi
  echo "$stamp" > .venv/.jicai-installed
fi

echo "==> resolving the Kafka broker from Maven Central (cached in .cache/kafka)"
.venv/bin/python -c "from jicai_devstack.kafka import ensure_jars; ensure_jars()"
