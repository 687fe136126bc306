#!/bin/sh
# Make the secret files docker-compose.yml reads: random hex passwords (safe in SCRAM and JAAS syntax) and a token
# key pair. The private signing key goes to DIR/token-signing/, which no container mounts: keep it where tokens are
# minted. Existing files are kept, so running it again changes nothing. Usage: deploy/docker/make-secrets.sh secrets
set -eu
DIR=${1:?usage: make-secrets.sh DIR}
mkdir -p "$DIR" && chmod 700 "$DIR"
for name in postgres-superuser postgres-contracts postgres-orders postgres-settlement postgres-alerts postgres-console console-session-secret \
            kafka-admin kafka-contracts kafka-orders kafka-settlement kafka-alerts kafka-clock; do
    # 0644 inside a 0700 directory: only the owner reaches them on the host; the containers' users can read the mount.
    [ -f "$DIR/$name" ] || { openssl rand -hex 24 > "$DIR/$name"; chmod 644 "$DIR/$name"; }
done
if [ ! -f "$DIR/auth-public-keys.json" ]; then
    "${PYTHON:-.venv/bin/python}" -m jicai_kit.keys new "platform-$(date +%Y-%m)" "$DIR/token-signing" "$DIR/auth-public-keys.json"
    chmod 644 "$DIR/auth-public-keys.json"
fi
