#!/usr/bin/env bash
# Install highlighter and everything it needs on a fresh Debian/Ubuntu machine:
# system packages from the distribution (ffmpeg, a font; Chromium for tests), then the package with pip.
#   scripts/install.sh          the tool
#   scripts/install.sh --test   the tool, its test dependencies and the int8 extra (so the tests run int8 scoring)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
case "${1:-}" in
  --test) extras="[test,int8]" ;;
  "") ;;
  *) echo "usage: scripts/install.sh [--test]" >&2; exit 2 ;;
esac

# Debian packages: ffmpeg (decoding checks, test clips, reels) and a font for burnt-in reel captions;
# with --test also Chromium, in which the tests open the review page headless.
packages=()
command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || packages+=(fonts-dejavu-core)
if [ -n "$extras" ] && ! command -v chromium >/dev/null 2>&1; then packages+=(chromium); fi
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${packages[*]} (apt-get)..." >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

in_venv=$(python3 -c 'import sys; print(int(sys.prefix != sys.base_prefix))')
managed=$(python3 -c 'import sysconfig, pathlib; print(int(pathlib.Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").exists()))')
if [ "$in_venv" = 0 ] && [ "$managed" = 1 ]; then
  echo "error: this Python is managed by the system (PEP 668); make a virtual environment first:" >&2
  echo "  python3 -m venv .venv && . .venv/bin/activate && scripts/install.sh ${1:-}" >&2
  exit 1
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".${extras}"

if [ -n "$extras" ]; then
  # The official SoccerNet evaluator, which the tests compare `highlight eval` against. Its evaluation
  # code needs only numpy and tqdm; its declared dependencies are the dataset downloaders (boto3,
  # huggingface_hub, pycocoevalcap, scikit-video, ...), which the tests never use.
  python3 -m pip install --quiet --disable-pip-version-check --no-deps "SoccerNet==0.2.0"
fi
