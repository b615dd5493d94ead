#!/usr/bin/env bash
# The browser of the web page's tests: Debian's chromium, installed with apt when missing
# (root needed then). Prints the browser's path on stdout; every other message goes to stderr.
# Playwright drives it (the Python package, with this executable: no browser download).
set -euo pipefail

say() { echo "chromium-test : $*" >&2; }

if [ -n "${RIPOSTE_CHROMIUM:-}" ]; then
  [ -x "$RIPOSTE_CHROMIUM" ] || { say "erreur : RIPOSTE_CHROMIUM=$RIPOSTE_CHROMIUM n'est pas exécutable."; exit 1; }
  echo "$RIPOSTE_CHROMIUM"
  exit 0
fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "erreur : Chromium est absent. Installez-le (Debian/Ubuntu : sudo apt-get install chromium fonts-dejavu-core)"
  say "ou indiquez son chemin dans RIPOSTE_CHROMIUM, puis relancez make test."
  exit 1
fi
say "installation de Chromium (paquet Debian chromium, une minute environ)…"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq chromium fonts-dejavu-core >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq chromium fonts-dejavu-core >/dev/null || {
    say "erreur : l'installation de Chromium a échoué (apt-get install chromium)."
    exit 1
  }
fi
echo /usr/bin/chromium
