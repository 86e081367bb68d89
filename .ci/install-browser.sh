#!/usr/bin/env bash
# What tests/test_viz_browser.py needs, installed once and quickly skipped after:
#   - Debian's Chromium and ChromeDriver (/usr/bin/chromium, /usr/bin/chromedriver);
#   - the `selenium` Python driver, into the active virtualenv (or $PYTHON);
#   - Solara's browser libraries in its local CDN cache, from the npm registry (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
    if [ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "install-browser: apt-get install chromium chromium-driver"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

if ! "$PYTHON" -c "import selenium" >/dev/null 2>&1; then
    echo "install-browser: pip install selenium"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "selenium>=4.20" >/dev/null 2>&1 \
        || "$PYTHON" -m pip install --quiet --disable-pip-version-check "selenium>=4.20"
fi

# Solara's page (its Vuetify app, requirejs, vega for Altair charts) comes from a public CDN that
# this machine cannot reach: cache those packages from the npm registry (skipped when cached).
assets="$("$PYTHON" -m agentopia_mesa.cli.viz --fetch-assets)"
case "$assets" in *"already cached"*) ;; *) echo "$assets" ;; esac
