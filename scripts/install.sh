#!/usr/bin/env bash
# Install highlighter and everything it needs on a fresh Debian/Ubuntu machine:
# ffmpeg from the distribution (test clips and benchmarks call it), then the package itself with pip.
#   scripts/install.sh          the tool
#   scripts/install.sh --test   the tool and its test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
case "${1:-}" in
  --test) extras="[test]" ;;
  "") ;;
  *) echo "usage: scripts/install.sh [--test]" >&2; exit 2 ;;
esac

if ! command -v ffmpeg >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ffmpeg (apt-get)..." >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ffmpeg >/dev/null
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".${extras}"

if [ -n "$extras" ]; then
  # The official SoccerNet evaluator, which the tests compare `highlight eval` against. Its evaluation
  # code needs only numpy and tqdm; its declared dependencies are the dataset downloaders (boto3,
  # huggingface_hub, pycocoevalcap, scikit-video, ...), which the tests never use.
  python3 -m pip install --quiet --disable-pip-version-check --no-deps "SoccerNet==0.2.0"
fi
