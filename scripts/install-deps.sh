#!/usr/bin/env bash
# Installs what dcdir needs on a fresh Debian (bookworm) machine. Idempotent.
#
#   scripts/install-deps.sh build   compilers' libraries and tools to build dcdir (and dpkg-dev:
#                                   cpack -G DEB generates Depends with dpkg-shlibdeps)
#   scripts/install-deps.sh test    + what the tests use: redis-server, redis-sentinel, etcd (bench peer),
#                                   clang and the sanitizer runtimes, libfaketime (clock steps),
#                                   systemd (systemd-analyze),
#                                   prometheus/promtool, helm/kubectl and node tools, python gRPC
#   scripts/install-deps.sh container  + podman (runc, netavark, aardvark-dns, iptables) and
#                                   mmdebstrap, for scripts/container-check.sh
set -euo pipefail
mode="${1:-build}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build_pkgs=(build-essential cmake pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libhiredis-dev prometheus-cpp-dev libyaml-cpp-dev libmicrohttpd-dev libmaxminddb-dev
  zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev curl dpkg-dev)
test_pkgs=(redis-server redis-tools redis-sentinel python3-grpcio python3-grpc-tools
  nghttp2-client jq etcd-server etcd-client clang libclang-rt-14-dev libtsan2 systemd
  faketime libfaketime libmaxmind-db-writer-perl mmdb-bin iproute2 iptables)
# Rootful podman without a Docker engine or a registry (scripts/container-check.sh): runc, not
# crun (crun refuses this VM's hybrid cgroup layout); netavark + aardvark-dns + iptables for a
# private bridge network with names and published ports; mmdebstrap makes the base images;
# openssl makes the TLS test certificates.
container_pkgs=(podman runc conmon netavark aardvark-dns iptables mmdebstrap openssl)

wanted=("${build_pkgs[@]}")
case "${mode}" in
  build) ;;
  test) wanted+=("${test_pkgs[@]}") ;;
  container) wanted+=("${test_pkgs[@]}" "${container_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|container]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed" || missing+=("${p}")
done
if ((${#missing[@]} > 0)); then
  echo "install-deps: apt-get install ${missing[*]}" >&2
  SUDO=(); [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo -n)
  # Never let package scripts start system services (redis, prometheus) on the machine:
  # tests start their own on free loopback ports.
  policy=/usr/sbin/policy-rc.d; made_policy=0
  if [[ ! -e "${policy}" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "${policy}" >/dev/null
    "${SUDO[@]}" chmod +x "${policy}"; made_policy=1
  fi
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  [[ "${made_policy}" == 1 ]] && "${SUDO[@]}" rm -f "${policy}"
fi

if [[ "${mode}" == "test" || "${mode}" == "container" ]]; then
  "${repo_root}/scripts/install-prometheus.sh"
  "${repo_root}/scripts/install-deploy-tools.sh"
fi
