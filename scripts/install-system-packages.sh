#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need, when they are missing:
# Tesseract with Finnish and English data (OCR), Voikko (Finnish morphology), poppler
# (PDF tools used by tests) and Chromium (the browser test).
set -euo pipefail

packages=(tesseract-ocr tesseract-ocr-fin tesseract-ocr-eng libvoikko1 voikko-fi
          poppler-utils chromium fonts-dejavu-core fonts-liberation redis-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: need root or sudo to install: ${missing[*]}" >&2
  echo "install them yourself (apt-get install ${missing[*]}) and run make again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null || true
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
