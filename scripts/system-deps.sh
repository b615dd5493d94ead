#!/usr/bin/env bash
# Paquets système nécessaires aux courriers PDF (WeasyPrint) et à leurs tests (pdftotext).
# Idempotent : n'installe que ce qui manque ; « apt-get update » une seule fois, et seulement
# s'il faut installer quelque chose. Debian 12 (bookworm) et dérivées.
#
#   scripts/system-deps.sh           installe ce qui manque (root requis dans ce cas)
#   scripts/system-deps.sh --check   vérifie seulement (code 1 s'il manque un paquet)
set -euo pipefail

PACKAGES=(
  libpango-1.0-0        # mise en page du texte (WeasyPrint)
  libpangoft2-1.0-0     # polices FreeType pour Pango (WeasyPrint)
  libharfbuzz-subset0   # sous-ensembles de polices dans les PDF (WeasyPrint)
  fonts-dejavu-core     # police DejaVu : aucune police distante
  poppler-utils         # pdftotext et pdftoppm (tests, aperçu PNG)
)

check_only=0
case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  *)
    echo "Usage : $0 [--check]" >&2
    exit 2
    ;;
esac

installed() {
  local status
  status="$(dpkg -s "$1" 2>/dev/null)" || return 1
  grep -q '^Status: install ok installed$' <<<"$status"
}

if ! command -v dpkg >/dev/null 2>&1; then
  echo "Erreur : dpkg est introuvable ; ce script vise Debian et ses dérivées." >&2
  echo "Installez à la main l'équivalent de : ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if installed "$package"; then
    echo "Déjà installé : $package"
  else
    echo "Manquant : $package"
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "Tous les paquets système nécessaires sont présents."
  exit 0
fi

if [ "$check_only" -eq 1 ]; then
  echo "Paquets manquants : ${missing[*]}" >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Erreur : il manque ${missing[*]}, et l'installation demande les droits administrateur." >&2
  echo "Relancez en tant que root, par exemple :" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "Mise à jour de la liste des paquets (apt-get update)…"
apt-get update
echo "Installation de : ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

still_missing=()
for package in "${missing[@]}"; do
  if ! installed "$package"; then
    still_missing+=("$package")
  fi
done
if [ ${#still_missing[@]} -ne 0 ]; then
  echo "Erreur : l'installation a échoué pour : ${still_missing[*]}" >&2
  exit 1
fi
echo "Paquets système installés : ${missing[*]}"
