#!/usr/bin/env bash
# Installs what Conveyor needs on a fresh Debian/Ubuntu machine.
#   scripts/setup.sh          runtime parts: buildah, skopeo, qemu-user-static, git, a .venv with the package
#   scripts/setup.sh --test   the same plus the test-only parts (docker-registry, PostgreSQL, podman, ...)
# Idempotent: a second run installs nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

runtime_pkgs=(buildah skopeo qemu-user-static binfmt-support git ca-certificates python3-venv)
test_pkgs=(docker-registry postgresql podman umoci busybox-static debootstrap wrk curl chromium golang-go rpm)

missing=()
pkgs=("${runtime_pkgs[@]}")
[ "$want_test" = 1 ] && pkgs+=("${test_pkgs[@]}")
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
fi

# qemu-user-static: the foreign architectures builds may target (arm64, arm/v7, arm/v6)
# registered with the kernel, so buildah runs their RUN steps through emulation. Containers often
# come without the binfmt_misc mount or without the registrations; root can add both.
if [ "$(id -u)" = 0 ] && [ -d /proc/sys/fs/binfmt_misc ]; then
  binfmt=/proc/sys/fs/binfmt_misc
  [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || true
  for name in qemu-aarch64 qemu-arm qemu-i386 qemu-x86_64; do
    conf=/usr/lib/binfmt.d/$name.conf  # Debian ships these for foreign architectures only
    if [ -e "$conf" ] && [ -e "$binfmt/register" ] && [ ! -e "$binfmt/$name" ]; then
      cat "$conf" > "$binfmt/register" 2>/dev/null || echo "setup: could not register $name" >&2
    fi
  done
fi

# The Debian postgresql package starts a cluster of its own; the tests start private ones.
if [ "$want_test" = 1 ] && command -v systemctl >/dev/null && systemctl is-active -q postgresql 2>/dev/null; then
  systemctl stop postgresql || true
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$( (cat pyproject.toml; echo "$want_test") | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  if [ "$want_test" = 1 ]; then
    .venv/bin/pip install -q -e '.[test]'
  else
    .venv/bin/pip install -q -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
echo "setup: ready"
