#!/usr/bin/env bash
# Builds what a deployment installs, into DIR: a wheel of every library and service (libs/*, services/*;
# not the dev stack) and requirements.txt, their third-party dependencies at the versions and hashes of
# uv.lock. Install with: uv pip install --require-hashes --no-deps -r DIR/requirements.txt && uv pip install --no-deps DIR/*.whl
# (pip takes the same arguments; add --compile-bytecode to uv's where the environment cannot write its own, as in the image).
# The Docker image (deploy/docker/Dockerfile) and tests/infra/test_wheels.py both use it.
# Usage: deploy/build-wheels.sh DIR   (UV: the uv to run, default the one on PATH; PYTHON: likewise)
set -euo pipefail
out=$(realpath -m "$1")
cd "$(dirname "$0")/.."
UV=${UV:-uv}
PYTHON=${PYTHON:-python3}
mkdir -p "$out"
packages=()
for dir in libs/*/ services/*/; do
  [ -f "$dir/pyproject.toml" ] || continue
  # uv_build (each pyproject's backend) runs inside uv, in milliseconds: no build environment, no staging directory.
  "$UV" build --wheel --quiet --out-dir "$out" "$dir"
  packages+=(--package "$("$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["name"])' "$dir/pyproject.toml")")
done
"$UV" export --locked --quiet --no-dev --no-emit-workspace "${packages[@]}" --output-file "$out/requirements.txt"
