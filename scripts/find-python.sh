#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 needs exactly 3.10), or explain in
# French what to install and exit 1. Looks at $PYTHON, python3.10 on PATH, then pyenv.
set -u

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  if is_310 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON n'est pas un Python 3.10." >&2
  exit 1
fi

if command -v python3.10 >/dev/null 2>&1 && is_310 python3.10; then
  command -v python3.10; exit 0
fi

if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
    candidate="$(pyenv prefix "$version" 2>/dev/null)/bin/python"
    if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
  done
fi

cat >&2 <<'MSG'
Python 3.10 est introuvable : Rasa 3.6 ne fonctionne qu'avec Python 3.10.
Installez-le, puis relancez la commande :
  - avec pyenv :           pyenv install 3.10.13
  - sous Debian/Ubuntu :   apt-get install python3.10 python3.10-venv
                           (Ubuntu : dépôt « deadsnakes » si la version n'est pas disponible)
  - ou indiquez son chemin : make run PYTHON=/chemin/vers/python3.10
MSG
exit 1
