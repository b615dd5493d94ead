#!/usr/bin/env bash
# A throw-away PostgreSQL server for the test suite (case store tests on PostgreSQL).
#
#   scripts/postgres-test.sh        start it (or reuse the one already running) and print its
#                                   SQLAlchemy URL on stdout; every other message goes to stderr
#   scripts/postgres-test.sh stop   stop it and delete its data
#
# Installs the Debian package `postgresql` when its server binaries are missing (root needed
# then). The cluster is private to this repository: its own data directory (under
# var/postgres-test/, or under /tmp when the `postgres` user cannot reach var/), trust
# authentication, listening on 127.0.0.1 only on a free port, its unix socket inside the data
# directory. It never touches the clusters of the system (pg_ctlcluster, port 5432…).
# Durability is switched off (fsync=off…): the data is disposable, and a cluster found
# crashed or stopped is deleted and created again rather than repaired.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/var/postgres-test"
# The file naming the data directory of the current cluster (it may live under /tmp).
POINTER="$STATE_DIR/cluster"
# Unix socket paths are limited to 107 bytes ("<dir>/.s.PGSQL.<port>").
MAX_SOCKET_DIR=80
START_TIMEOUT=60

say() { echo "postgres-test : $*" >&2; }
die() {
  echo "postgres-test : erreur : $*" >&2
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

# ------------------------------------------------------------------ server binaries

PG_BIN=""

# The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl, postgres and pg_isready.
find_binaries() {
  local dir best="" best_version=0 version
  for dir in /usr/lib/postgresql/*/bin; do
    version="${dir#/usr/lib/postgresql/}"
    version="${version%%/*}"
    [[ "$version" =~ ^[0-9]+$ ]] || continue
    if ! [ -x "$dir/initdb" ] || ! [ -x "$dir/pg_ctl" ] || ! [ -x "$dir/postgres" ] ||
      ! [ -x "$dir/pg_isready" ]; then
      continue
    fi
    if [ "$version" -gt "$best_version" ]; then
      best="$dir"
      best_version="$version"
    fi
  done
  [ -n "$best" ] || return 1
  PG_BIN="$best"
}

ensure_binaries() {
  find_binaries && return 0
  if ! is_root; then
    die "les programmes du serveur PostgreSQL sont introuvables (initdb absent de /usr/lib/postgresql/*/bin).
Installez le paquet Debian « postgresql » en tant que root, par exemple :
  sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql
puis relancez la commande."
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "apt-get est introuvable ; ce script vise Debian et ses dérivées. Installez PostgreSQL (paquet « postgresql »)."
  say "installation du paquet postgresql (apt-get, une seule fois)…"
  local started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # Never on stdout: stdout carries the URL only.
  # Without the lock descriptor: a server the package may start must not inherit it.
  apt-get update >&2 9>&- || die "« apt-get update » a échoué : impossible d'installer PostgreSQL."
  apt-get install -y --no-install-recommends postgresql >&2 9>&- ||
    die "« apt-get install postgresql » a échoué : impossible d'installer PostgreSQL."
  find_binaries || die "le paquet postgresql est installé mais initdb reste introuvable sous /usr/lib/postgresql/*/bin."
  say "PostgreSQL installé en $((SECONDS - started)) s."
}

# ------------------------------------------------------------------ running as the cluster owner

# initdb and postgres refuse to run as root: as root, the cluster belongs to the `postgres`
# system user (created by the Debian package); otherwise to the current user.
OWNER=""

set_owner() {
  if is_root; then
    id -u postgres >/dev/null 2>&1 ||
      die "l'utilisateur système « postgres » n'existe pas (il est créé par le paquet Debian postgresql) ; réinstallez-le : apt-get install --reinstall postgresql-common"
    command -v runuser >/dev/null 2>&1 || die "la commande runuser (paquet util-linux) est introuvable."
    OWNER=postgres
  else
    OWNER="$(id -un)"
  fi
}

# Runs a command as the cluster owner, from / (the owner may not be allowed into the current
# directory), in the C locale, without the lock descriptor (a server started from here would
# otherwise keep the lock for ever).
as_owner() {
  if is_root; then
    (cd / && LC_ALL=C runuser -u "$OWNER" -- "$@") 9>&-
  else
    (cd / && LC_ALL=C "$@") 9>&-
  fi
}

# ------------------------------------------------------------------ state of a cluster

# The postmaster's pid when it is alive and serves this data directory, else nothing.
postmaster_pid() {
  local datadir="$1" pid
  [ -f "$datadir/postmaster.pid" ] || return 1
  pid="$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # A stale file (crash, reboot) may name a pid now used by another program: check that the
  # process really is a postgres server for this directory.
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $datadir " || return 1
  echo "$pid"
}

# The port recorded by the running server (4th line of postmaster.pid).
postmaster_port() {
  sed -n 4p "$1/postmaster.pid" 2>/dev/null || true
}

is_ready() {
  local datadir="$1" port="$2"
  [[ "$port" =~ ^[0-9]+$ ]] || return 1
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 3 2>/dev/null
}

url_for() {
  echo "postgresql+psycopg2://postgres@127.0.0.1:$1/postgres"
}

# Stop the server of `datadir` if it runs (fast, then immediate, then SIGKILL), and delete it.
destroy() {
  local datadir="$1" pid
  if pid="$(postmaster_pid "$datadir")"; then
    as_owner "$PG_BIN/pg_ctl" stop -D "$datadir" -m fast -w -t 20 >&2 ||
      as_owner "$PG_BIN/pg_ctl" stop -D "$datadir" -m immediate -w -t 10 >&2 || true
    if pid="$(postmaster_pid "$datadir")"; then
      say "le serveur (pid $pid) ne s'arrête pas : SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        postmaster_pid "$datadir" >/dev/null || break
        sleep 0.1
      done
    fi
  fi
  rm -rf -- "$datadir"
}

# ------------------------------------------------------------------ creation

# The directory that will hold the cluster: under var/postgres-test/ when the owner can reach
# it and the socket path stays short enough, else a fresh directory under /tmp.
new_datadir() {
  local candidate="$STATE_DIR/data"
  if [ "${#candidate}" -le "$MAX_SOCKET_DIR" ] && as_owner test -x "$STATE_DIR" 2>/dev/null; then
    destroy "$candidate" # a leftover (pointer file lost): stopped first if it still runs
    mkdir -m 700 -- "$candidate"
    if [ "$OWNER" = "$(id -un)" ] || chown "$OWNER:" "$candidate" 2>/dev/null; then
      if as_owner test -w "$candidate" 2>/dev/null; then
        echo "$candidate"
        return 0
      fi
    fi
    rm -rf -- "$candidate"
  fi
  candidate="$(mktemp -d /tmp/riposte-pg.XXXXXX)"
  chmod 700 "$candidate"
  [ "$OWNER" = "$(id -un)" ] || chown "$OWNER:" "$candidate"
  echo "$candidate"
}

port_in_use() {
  # Something accepts connections there (bash's /dev/tcp: no extra tool needed).
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 10000))
    port_in_use "$port" || {
      echo "$port"
      return 0
    }
  done
  die "aucun port TCP libre trouvé sur 127.0.0.1 entre 20000 et 29999."
}

create_cluster() {
  local datadir="$1" log
  log="$(mktemp)"
  if ! as_owner "$PG_BIN/initdb" -D "$datadir" -U postgres --auth=trust --encoding=UTF8 \
    --no-locale --no-sync >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "initdb a échoué dans $datadir (voir ci-dessus)."
  fi
  rm -f "$log"
  # Appended last, so these settings win over the defaults written by initdb.
  as_owner tee -a "$datadir/postgresql.conf" >/dev/null <<EOF

# ---- scripts/postgres-test.sh: throw-away test server ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$datadir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
logging_collector = off
EOF
}

# Start the server on a free port; a port taken in the meantime means another try.
start_server() {
  local datadir="$1" port attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_owner "$PG_BIN/pg_ctl" start -D "$datadir" -l "$datadir/server.log" -w \
      -t "$START_TIMEOUT" -o "-p $port" >&2; then
      echo "$port"
      return 0
    fi
    if grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' \
      "$datadir/server.log" 2>/dev/null; then
      say "port $port déjà pris, nouvel essai ($attempt/5)…"
      continue
    fi
    tail -n 30 "$datadir/server.log" >&2 2>/dev/null || true
    return 1
  done
  return 1
}

wait_ready() {
  local datadir="$1" port="$2"
  for _ in $(seq 1 $((START_TIMEOUT * 5))); do
    is_ready "$datadir" "$port" && return 0
    sleep 0.2
  done
  return 1
}

# ------------------------------------------------------------------ commands

lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock -w 600 9 || die "un autre lancement de $0 ne rend pas la main (verrou $STATE_DIR/lock)."
}

start() {
  lock
  ensure_binaries
  set_owner

  local started=$SECONDS datadir="" port
  [ -f "$POINTER" ] && datadir="$(cat "$POINTER")"
  if [ -n "$datadir" ] && [ -d "$datadir" ]; then
    port="$(postmaster_port "$datadir")"
    if postmaster_pid "$datadir" >/dev/null && is_ready "$datadir" "$port"; then
      say "serveur PostgreSQL de test déjà démarré ($datadir, port $port) : réutilisé."
      url_for "$port"
      return 0
    fi
    say "cluster de test précédent arrêté ou planté ($datadir) : il est recréé."
    destroy "$datadir"
  fi
  rm -f "$POINTER"

  datadir="$(new_datadir)"
  echo "$datadir" >"$POINTER"
  say "création d'un cluster PostgreSQL de test dans $datadir…"
  create_cluster "$datadir"
  if ! port="$(start_server "$datadir")"; then
    destroy "$datadir"
    rm -f "$POINTER"
    die "le serveur PostgreSQL de test n'a pas démarré (journal ci-dessus)."
  fi
  if ! wait_ready "$datadir" "$port"; then
    tail -n 30 "$datadir/server.log" >&2 2>/dev/null || true
    destroy "$datadir"
    rm -f "$POINTER"
    die "le serveur PostgreSQL de test ne répond pas sur 127.0.0.1:$port après ${START_TIMEOUT} s."
  fi
  say "serveur PostgreSQL de test prêt sur 127.0.0.1:$port en $((SECONDS - started)) s."
  url_for "$port"
}

stop() {
  [ -f "$POINTER" ] || {
    say "aucun serveur PostgreSQL de test à arrêter."
    return 0
  }
  find_binaries || die "les programmes du serveur PostgreSQL sont introuvables : impossible d'arrêter le cluster."
  set_owner
  lock
  local datadir
  datadir="$(cat "$POINTER")"
  if [ -n "$datadir" ] && [ -d "$datadir" ]; then
    destroy "$datadir"
  fi
  rm -f "$POINTER"
  say "serveur PostgreSQL de test arrêté et supprimé."
}

"$action"
