#!/usr/bin/env bash
# Re-fetch the socket.io client the web page uses (webchat/vendor/socket.io.min.js) from the npm
# registry, check npm's integrity hash, and print the file's SHA-256 for webchat/vendor/README.
# Usage: scripts/vendor-socketio.sh [version]   (default: the version in webchat/vendor/README)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-$(sed -n 's/^socket.io-client \([0-9.]*\).*/\1/p' webchat/vendor/README)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v npm >/dev/null || { echo "npm est nécessaire (paquet Debian npm)." >&2; exit 1; }
(cd "$work" && npm pack --silent "socket.io-client@$version" >/dev/null)
tar -xzf "$work/socket.io-client-$version.tgz" -C "$work"
cp "$work/package/dist/socket.io.min.js" webchat/vendor/socket.io.min.js
cp "$work/package/LICENSE" webchat/vendor/socket.io-client.LICENSE
echo "socket.io-client $version : $(sha256sum webchat/vendor/socket.io.min.js | cut -d' ' -f1)"
