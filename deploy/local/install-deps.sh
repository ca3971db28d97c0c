#!/usr/bin/env bash
# Installs the Debian 12 packages chatd needs to build, test and run locally (only the missing ones).
set -euo pipefail

packages=(
  libboost1.81-dev libboost-json1.81-dev
  libspdlog-dev libfmt-dev default-libmysqlclient-dev
  libsodium-dev libssl-dev libtomlplusplus-dev libcli11-dev libreadline-dev
  mariadb-server mariadb-client redis-server redis-tools nginx libnginx-mod-stream
  cmake ninja-build g++ libgtest-dev libgmock-dev pkg-config tmux openssl
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
# Never libboost-dev: that is Boost 1.74 and conflicts with libboost1.81-dev.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
