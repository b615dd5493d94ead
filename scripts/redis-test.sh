#!/usr/bin/env bash
# A throw-away Redis server for the test suite (the lock store shared by several Rasa servers).
#
#   scripts/redis-test.sh        start it (or reuse the one already running) and print its URL
#                                on stdout (redis://127.0.0.1:PORT/0); every other message goes
#                                to stderr
#   scripts/redis-test.sh stop   stop it and delete its directory
#
# Installs the Debian package `redis-server` when redis-server or redis-cli is missing (root
# needed then). The server is private to this repository: its own temporary directory under
# /tmp (named in var/redis-test/server), listening on 127.0.0.1 only on a free port, protected
# mode on, no unix socket, no persistence at all (no RDB snapshot, no AOF): the data is
# disposable. It never touches the Redis of the system (service redis-server, port 6379). A
# server found dead or not answering is deleted and started again rather than repaired.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/var/redis-test"
# The file naming the directory of the current server (under /tmp).
POINTER="$STATE_DIR/server"
START_TIMEOUT=30

say() { echo "redis-test : $*" >&2; }
die() {
  echo "redis-test : erreur : $*" >&2
  exit 1
}

usage() {
  echo "Usage : $0 [stop]" >&2
  exit 2
}

action=start
case "${1:-}" in
  "" | start) ;;
  stop) action=stop ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

is_root() { [ "$(id -u)" -eq 0 ]; }

# ------------------------------------------------------------------ binaries

REDIS_SERVER=""
REDIS_CLI=""

find_binaries() {
  REDIS_SERVER="$(command -v redis-server || true)"
  REDIS_CLI="$(command -v redis-cli || true)"
  [ -n "$REDIS_SERVER" ] && [ -n "$REDIS_CLI" ]
}

ensure_binaries() {
  find_binaries && return 0
  if ! is_root; then
    die "redis-server ou redis-cli est introuvable.
Installez le paquet Debian « redis-server » en tant que root, par exemple :
  sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server
puis relancez la commande."
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "apt-get est introuvable ; ce script vise Debian et ses dérivées. Installez Redis (paquet « redis-server »)."
  say "installation du paquet redis-server (apt-get, une seule fois)…"
  local started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # Never on stdout: stdout carries the URL only.
  # Without the lock descriptor: a server the package may start must not inherit it.
  if ! apt-get install -y --no-install-recommends redis-server >&2 9>&-; then
    apt-get update >&2 9>&- || die "« apt-get update » a échoué : impossible d'installer Redis."
    apt-get install -y --no-install-recommends redis-server >&2 9>&- ||
      die "« apt-get install redis-server » a échoué : impossible d'installer Redis."
  fi
  find_binaries || die "le paquet redis-server est installé mais redis-server ou redis-cli reste introuvable."
  say "Redis installé en $((SECONDS - started)) s."
}

# ------------------------------------------------------------------ state of a server

# The server's pid when it is alive and is the redis-server of this directory, else nothing.
server_pid() {
  local dir="$1" pid
  [ -f "$dir/redis.pid" ] || return 1
  pid="$(head -n 1 "$dir/redis.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # A stale file (crash, reboot) may name a pid now used by another program: check that the
  # process really is a redis-server working in this directory.
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/comm" 2>/dev/null | grep -q '^redis-server' || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null || true)" = "$dir" ] || return 1
  echo "$pid"
}

server_port() {
  cat "$1/port" 2>/dev/null || true
}

is_ready() {
  local port="$1"
  [[ "$port" =~ ^[0-9]+$ ]] || return 1
  [ "$(timeout 3 "$REDIS_CLI" -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = "PONG" ]
}

url_for() {
  echo "redis://127.0.0.1:$1/0"
}

# Stop the server of `dir` if it runs (SHUTDOWN NOSAVE, then SIGTERM, then SIGKILL), and
# delete the directory.
destroy() {
  local dir="$1" pid port
  if pid="$(server_pid "$dir")"; then
    port="$(server_port "$dir")"
    if [[ "$port" =~ ^[0-9]+$ ]]; then
      timeout 5 "$REDIS_CLI" -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
    for signal in TERM KILL; do
      for _ in $(seq 1 50); do
        server_pid "$dir" >/dev/null || break 2
        sleep 0.1
      done
      pid="$(server_pid "$dir")" || break
      [ "$signal" = KILL ] && say "le serveur (pid $pid) ne s'arrête pas : SIGKILL"
      kill -"$signal" "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 50); do
      server_pid "$dir" >/dev/null || break
      sleep 0.1
    done
  fi
  case "$dir" in
    /tmp/riposte-redis.*) rm -rf -- "$dir" ;;
    *) say "répertoire inattendu laissé en place : $dir" ;;
  esac
}

# ------------------------------------------------------------------ creation

port_in_use() {
  # Something accepts connections there (bash's /dev/tcp: no extra tool needed).
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((30000 + RANDOM % 10000))
    port_in_use "$port" || {
      echo "$port"
      return 0
    }
  done
  die "aucun port TCP libre trouvé sur 127.0.0.1 entre 30000 et 39999."
}

# Start the server on a free port; a port taken in the meantime means another try.
start_server() {
  local dir="$1" port attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    rm -f "$dir/redis.pid" "$dir/redis.log"
    # From its own directory (server_pid checks the cwd), daemonized, without the lock
    # descriptor (it would otherwise keep the lock for ever).
    if (cd "$dir" && "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --protected-mode yes \
      --unixsocket "" --dir "$dir" --save "" --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --loglevel notice \
      --maxmemory 256mb --databases 16) >&2 9>&-; then
      for _ in $(seq 1 $((START_TIMEOUT * 5))); do
        if is_ready "$port"; then
          echo "$port" >"$dir/port"
          echo "$port"
          return 0
        fi
        server_pid "$dir" >/dev/null || [ ! -f "$dir/redis.pid" ] || break
        if grep -qE 'Address already in use|Could not create server TCP listening socket' \
          "$dir/redis.log" 2>/dev/null; then
          break
        fi
        sleep 0.2
      done
    fi
    if grep -qE 'Address already in use|Could not create server TCP listening socket' \
      "$dir/redis.log" 2>/dev/null; then
      say "port $port déjà pris, nouvel essai ($attempt/5)…"
      pid="$(server_pid "$dir")" && kill -KILL "$pid" 2>/dev/null || true
      continue
    fi
    tail -n 30 "$dir/redis.log" >&2 2>/dev/null || true
    return 1
  done
  return 1
}

# ------------------------------------------------------------------ commands

lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock -w 120 9 || die "un autre lancement de $0 ne rend pas la main (verrou $STATE_DIR/lock)."
}

start() {
  lock
  ensure_binaries

  local started=$SECONDS dir="" port
  [ -f "$POINTER" ] && dir="$(cat "$POINTER")"
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    port="$(server_port "$dir")"
    if server_pid "$dir" >/dev/null && is_ready "$port"; then
      say "serveur Redis de test déjà démarré ($dir, port $port) : réutilisé."
      url_for "$port"
      return 0
    fi
    say "serveur Redis de test précédent arrêté ou planté ($dir) : il est recréé."
    destroy "$dir"
  fi
  rm -f "$POINTER"

  dir="$(mktemp -d /tmp/riposte-redis.XXXXXX)"
  chmod 700 "$dir"
  echo "$dir" >"$POINTER"
  if ! port="$(start_server "$dir")"; then
    destroy "$dir"
    rm -f "$POINTER"
    die "le serveur Redis de test n'a pas démarré (journal ci-dessus)."
  fi
  say "serveur Redis de test prêt sur 127.0.0.1:$port en $((SECONDS - started)) s."
  url_for "$port"
}

stop() {
  [ -f "$POINTER" ] || {
    say "aucun serveur Redis de test à arrêter."
    return 0
  }
  find_binaries || die "redis-cli est introuvable : impossible d'arrêter le serveur de test."
  lock
  local dir
  dir="$(cat "$POINTER")"
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    destroy "$dir"
  fi
  rm -f "$POINTER"
  say "serveur Redis de test arrêté et supprimé."
}

"$action"
