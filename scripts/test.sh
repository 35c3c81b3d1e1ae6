#!/usr/bin/env bash
# Runs every test of easd: installs what the tests need (idempotent), then the Rust tests
# (unit, property, integration, the libwbxml oracle) and the Python acceptance suite against
# the real server.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v xml2wbxml >/dev/null 2>&1 || need_apt+=(libwbxml2-utils)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating the Python venv"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qx "pyactivesync==0.17.0"; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/acceptance/requirements.txt
fi

echo "== cargo build"
cargo build --release --bin easd
echo "== cargo test"
cargo test --workspace --release
echo "== acceptance (pytest)"
EASD_BIN="$PWD/target/release/easd" "$VENV/bin/python" -m pytest -q tests/acceptance
