#!/usr/bin/env bash
# Checks the runtime stage of the Dockerfile against the shared libraries of a built binary.
#
#   tests/deploy/check_image_libs.sh BINARY DOCKERFILE
#
# On this (Debian bookworm) machine, every library `ldd BINARY` resolves is mapped to its Debian
# package (what `dpkg -S` answers, read from dpkg's file lists in one pass). Then, for the apt-get install list of the Dockerfile's last stage:
#   1. every package of a library the binary links directly (ELF NEEDED) is listed explicitly;
#   2. every package of every library ldd loads is listed or pulled in by the Depends of a listed
#      one (the closure is read from the local dpkg database);
#   3. every listed package provides at least one library ldd loads (nothing unneeded);
#   4. no listed package is a -dev package; ldd finds every library.
# Exit 0 when all hold, 1 with the reasons otherwise, 2 on usage errors.
set -euo pipefail

if [[ $# -ne 2 || ! -f "$1" || ! -f "$2" ]]; then
  echo "usage: $0 BINARY DOCKERFILE" >&2
  exit 2
fi
binary="$1"
dockerfile="$2"
failures=()

# --- packages the Dockerfile's final stage installs ---------------------------------------------
# Joins continuation lines, keeps the last FROM stage, takes the words after "apt-get install"
# up to the next && or ; and drops options.
mapfile -t listed < <(
  sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "${dockerfile}" |
    awk 'toupper($1) == "FROM" { stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }' |
    grep -E '^RUN ' |
    sed -E 's/(&&|;)/\n/g' |
    awk '{ for (i = 1; i <= NF; i++) if ($i == "apt-get" && $(i+1) == "install") {
             for (j = i + 2; j <= NF; j++) if ($j !~ /^-/) print $j } }' |
    sort -u
)
if ((${#listed[@]} == 0)); then
  echo "FAIL: no apt-get install packages found in the last stage of ${dockerfile}" >&2
  exit 1
fi

# --- libraries of the binary and their packages --------------------------------------------------
ldd_out="$(ldd "${binary}")"
if grep -q 'not found' <<<"${ldd_out}"; then
  failures+=("ldd cannot resolve: $(grep 'not found' <<<"${ldd_out}" | tr -s ' \t' ' ')")
fi

declare -A sonames=() # soname -> path
while read -r line; do
  if [[ "${line}" =~ ^([^[:space:]]+)[[:space:]]+=\>[[:space:]]+(/[^[:space:]]+) ]]; then
    sonames["${BASH_REMATCH[1]}"]="${BASH_REMATCH[2]}"
  elif [[ "${line}" =~ ^(/[^[:space:]]+)[[:space:]]+\( ]]; then # the dynamic loader
    sonames["$(basename "${BASH_REMATCH[1]}")"]="${BASH_REMATCH[1]}"
  fi # else linux-vdso and friends: no file
done <<<"${ldd_out}"

# Candidate file names of each library: as ldd prints it, its real path, and the other side of
# the /usr merge (dpkg knows each file under one of them only). One readlink for all.
declare -A candidates=() # soname -> space-separated paths
mapfile -t names < <(printf '%s\n' "${!sonames[@]}")
mapfile -t reals < <(for n in "${names[@]}"; do printf '%s\n' "${sonames[${n}]}"; done | xargs -d '\n' readlink -f)
for i in "${!names[@]}"; do
  list=""
  for c in "${sonames[${names[$i]}]}" "${reals[$i]}"; do
    list+="${c} "
    case "${c}" in
      /usr/lib/*) list+="${c#/usr} " ;;
      /lib/* | /lib64/*) list+="/usr${c} " ;;
    esac
  done
  candidates["${names[$i]}"]="${list}"
done

# What `dpkg -S` answers, for all candidates at once: the package whose file list
# (/var/lib/dpkg/info/PKG[:ARCH].list) names the path.
declare -A owner_of=() # path -> package
while IFS= read -r line; do
  list="${line%%.list:*}"
  pkg="${list##*/}"
  owner_of["${line#*.list:}"]="${pkg%%:*}"
done < <(grep -H -x -F -f <(printf '%s\n' ${candidates[@]} | sort -u) /var/lib/dpkg/info/*.list || true)

declare -A lib_pkg=()   # soname -> package
declare -A needed_by=() # package -> sonames (for messages)
for soname in "${!sonames[@]}"; do
  path="${sonames[${soname}]}"
  pkg=""
  for c in ${candidates[${soname}]}; do
    if [[ -n "${owner_of[${c}]:-}" ]]; then pkg="${owner_of[${c}]}"; break; fi
  done
  if [[ -z "${pkg}" ]]; then
    failures+=("${path} (${soname}) belongs to no Debian package")
    continue
  fi
  lib_pkg["${soname}"]="${pkg}"
  needed_by["${pkg}"]+="${soname} "
done

declare -A is_listed=()
for p in "${listed[@]}"; do is_listed["${p}"]=1; done

# 1. direct dependencies are listed explicitly
declare -A reported=()
mapfile -t direct < <(readelf -d "${binary}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for soname in "${direct[@]}"; do
  pkg="${lib_pkg[${soname}]:-}"
  [[ -z "${pkg}" ]] && continue # reported above
  if [[ -z "${is_listed[${pkg}]:-}" && -z "${reported[${pkg}]:-}" ]]; then
    failures+=("runtime stage does not install ${pkg} (provides ${soname}, linked directly)")
    reported["${pkg}"]=1
  fi
done

# 2. transitive libraries are listed or pulled in by Depends/Pre-Depends
declare -A installed=() deps_of=()
while IFS=$'\t' read -r name status deps; do
  [[ "${status}" == ii* ]] && installed["${name}"]=1
  deps_of["${name}"]="${deps}"
done < <(dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Pre-Depends}, ${Depends}\n')
declare -A closure=()
queue=("${listed[@]}")
while ((${#queue[@]} > 0)); do
  p="${queue[0]}"
  queue=("${queue[@]:1}")
  [[ -n "${closure[${p}]:-}" ]] && continue
  closure["${p}"]=1
  IFS=',' read -ra alts <<<"${deps_of[${p}]:-}"
  for alt in "${alts[@]}"; do
    # "a (>= 1) | b" -> the first alternative that is installed here (else the first one)
    chosen=""
    IFS='|' read -ra options <<<"${alt}"
    for o in "${options[@]}"; do
      name="${o%%(*}"
      name="${name//[[:space:]]/}"
      name="${name%:any}"
      [[ -z "${name}" ]] && continue
      [[ -z "${chosen}" ]] && chosen="${name}"
      if [[ -n "${installed[${name}]:-}" ]]; then chosen="${name}"; break; fi
    done
    [[ -n "${chosen}" ]] && queue+=("${chosen}")
  done
done
for pkg in "${!needed_by[@]}"; do
  if [[ -z "${closure[${pkg}]:-}" && -z "${reported[${pkg}]:-}" ]]; then
    failures+=("runtime stage does not install ${pkg} (provides ${needed_by[${pkg}]% }), not even as a dependency")
  fi
done

# 3 + 4. nothing unneeded, no -dev packages
for p in "${listed[@]}"; do
  if [[ "${p}" == *-dev ]]; then
    failures+=("runtime stage installs the development package ${p}")
  elif [[ -z "${needed_by[${p}]:-}" ]]; then
    failures+=("runtime stage installs ${p}, which provides no library the binary loads")
  fi
done

if ((${#failures[@]} > 0)); then
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "ok: ${#listed[@]} runtime packages cover the ${#lib_pkg[@]} libraries of $(basename "${binary}")" \
  "(${#direct[@]} linked directly)"
