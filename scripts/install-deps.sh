#!/usr/bin/env bash
# Installs what chartsync builds, tests and benchmarks with: Debian packages (apt-get, as root
# or through sudo) and, from PyPI, real Helm (helm-python-sdk, the tests' reference peer) and
# PyYAML (the index benchmark's baseline). Idempotent: does nothing when all is present.
# --python-only skips the Debian part (CI installs those itself); --build-only installs just the
# Debian libraries chartsync builds against (what `make demo` needs) and nothing from PyPI.
set -euo pipefail
mode="${1:-all}"
if [ "$mode" != "--python-only" ]; then
  packages=(libcurl4-openssl-dev libarchive-dev zlib1g-dev libyaml-dev)   # build
  if [ "$mode" != "--build-only" ]; then
    packages+=(
      nginx-light openssl ca-certificates                          # test servers (TLS, basic auth)
      zstd pigz                                                     # archives
      libxml2-utils python3-jsonschema                              # the gate's report schemas (tests)
      docker-registry apache2-utils                                 # image tests: a real registry, htpasswd -B
      skopeo umoci                                                  # image layout interop (tests)
    )
    command -v python3 >/dev/null || packages+=(python3 python3-pip)
  fi
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
[ "$mode" = "--build-only" ] && exit 0
python3 - <<'PY' 2>/dev/null && exit 0
import importlib.metadata as m, yaml
assert m.version("helm-python-sdk") == "0.2.2" and yaml.CSafeLoader
PY
echo "installing from PyPI: helm-python-sdk==0.2.2 PyYAML" >&2
python3 -m pip install -q helm-python-sdk==0.2.2 PyYAML 2>/dev/null \
  || python3 -m pip install -q --break-system-packages helm-python-sdk==0.2.2 PyYAML
