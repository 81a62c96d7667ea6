#!/usr/bin/env bash
# The container check (a CI stage of scripts/test.sh, after the unit tests): builds the real image
# from deploy/docker/Dockerfile and runs it the way the Helm chart runs it, then checks it from
# outside. No Docker engine and no registry are needed: rootful podman builds and runs the image,
# and the debian:bookworm(-slim) base images are made here with mmdebstrap from this machine's
# own apt sources.
#
#   scripts/container-check.sh          install, base images (cached), build, check   (= all)
#   scripts/container-check.sh install  Debian packages (scripts/install-deps.sh container)
#   scripts/container-check.sh base     make the base images unless they exist (REBUILD_BASE=1: remake)
#   scripts/container-check.sh build    podman build -f deploy/docker/Dockerfile (as `docker build`)
#   scripts/container-check.sh check    run the checks on the built image
#   scripts/container-check.sh env      print the podman environment (source <(... env))
#   scripts/container-check.sh clean    remove every container, image and layer of the work folder
#
# What `check` runs, every container with exactly what `helm template helm/dcdir` renders for
# it (tests/container/pod_plan.mjs turns the rendered Deployment, ConfigMap and Secrets into
# podman arguments: args, user, read-only root, dropped capabilities, no-new-privileges, memory
# limit, the config and Secret volumes with their modes, emptyDirs):
#   1. ldd inside the image resolves every library of dcdir-server;
#   2. a bad chart value (extraArgs with a misspelled flag) must make the container exit non-zero
#      with the binary's own error, which is printed;
#   3. one replica (chart defaults, redis.mode=embedded): the chart's startup/readiness/liveness
#      probes pass against the published ports; grpc.health.v1 says SERVING to a stock client;
#      the process runs as the chart's uid/gid with no capabilities, no-new-privileges and a
#      read-only root (from /proc on the host); ReportHealth needs the mounted token and
#      GetDirectory answers the example world's US primaries; a real Prometheus scrapes the
#      published metrics port (up == 1, dcdir series with the expected values); SIGTERM gives
#      NOT_SERVING and exit 0 within the grace period the chart leaves after its preStop sleep;
#   4. Redis: a redis-server image built the same way, two replicas of the chart rendered with
#      redis.mode=external and a Redis password: a report on one replica is answered by the other
#      (both ways), and both stop cleanly; the audit log is written to its emptyDir;
#   5. TLS with client certificates (a CA and certificate made here with openssl): the --tls_*
#      flags, the chart's exec probes (dcdir-server --health_check), health and GetDirectory
#      over TLS.
# Every port is a free port on 127.0.0.1; everything started is removed on exit, also on failure.
# Containers run with `podman run`, not `podman kube play`: podman 4.3's kube play crashes on the
# chart's Secret volumes (podman issue 16636), publishes every containerPort on 0.0.0.0 with its
# own number, ignores the Secrets' defaultMode and the gRPC probes, and runs one replica. No
# --init either: on Kubernetes dcdir-server is PID 1 and must handle SIGTERM itself.
#
# Environment: DCDIR_OCI_DIR (work folder, default /var/tmp/dcdir-oci: podman's storage, config
# and run state; outside the checkout so it is never part of the build context, survives `git
# clean`, and every checkout on the machine shares the base images and the layer cache);
# REBUILD_BASE=1 remakes the base images; KEEP_RUN=1 keeps the run's folder (renders, plans,
# volumes) under $DCDIR_OCI_DIR/tmp. Needs root.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
W="${DCDIR_OCI_DIR:-/var/tmp/dcdir-oci}"
SUITE=bookworm
IMAGE=localhost/dcdir/dcdir-server:check
BUILD_STAGE_IMAGE=localhost/dcdir/dcdir-server-build:check
REDIS_IMAGE=localhost/dcdir/redis-check:${SUITE}
PY=/usr/bin/python3  # only Debian's interpreter sees python3-grpcio
TOOLS_DIR="${TOOLS_DIR:-${REPO_ROOT}/.tools}"
HELM="${TOOLS_DIR}/bin/helm"
export NODE_PATH="${TOOLS_DIR}/node/node_modules"

log() { echo "container-check: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ---- podman configuration: everything under $W, /etc/containers untouched ---------------------
env_lines() {
  cat <<EOF
export CONTAINERS_STORAGE_CONF=$W/conf/storage.conf
export CONTAINERS_REGISTRIES_CONF=$W/conf/registries.conf
export CONTAINERS_CONF=$W/conf/containers.conf
export TMPDIR=$W/tmp
EOF
}

write_conf() {
  mkdir -p "$W/conf" "$W/tmp" "$W/networks"
  cat >"$W/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$W/storage"
runroot = "$W/run"
EOF
  # No registry is reachable: no short-name search, and the two default ones blocked, so that a
  # FROM or run can only resolve to a local image (and fails at once otherwise).
  cat >"$W/conf/registries.conf" <<'EOF'
unqualified-search-registries = []
short-name-mode = "enforcing"
[[registry]]
prefix = "docker.io"
location = "docker.io"
blocked = true
[[registry]]
prefix = "quay.io"
location = "quay.io"
blocked = true
EOF
  # Host quirks: crun refuses this kernel's hybrid cgroup layout (runc works); rootful podman
  # asks for nofile=nproc=1048576, which the VM forbids (the hard limits we have, nproc at most
  # 32768, which podman lowers its own limit to). Networks are kept in $W too.
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [[ $nofile == unlimited || $nofile -gt 1048576 ]] && nofile=1048576
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  cat >"$W/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
events_logger = "file"
tmp_dir = "$W/run/libpod"
[network]
network_backend = "netavark"
network_config_dir = "$W/networks"
EOF
}

setup_env() {
  write_conf
  eval "$(env_lines)"
}

# Seconds since $1 (a $SECONDS value), for the timings printed.
since() { echo $((SECONDS - $1)); }

install() { "${REPO_ROOT}/scripts/install-deps.sh" container; }

# ---- base images: debian:bookworm and :bookworm-slim from this machine's apt sources ----------
base() {
  setup_env
  if [[ "${REBUILD_BASE:-0}" != 1 ]] && podman image exists "localhost/debian:${SUITE}"; then
    log "base image localhost/debian:${SUITE} cached (made $(podman image inspect \
      --format '{{.Created}}' "localhost/debian:${SUITE}" | cut -d. -f1); REBUILD_BASE=1 remakes it)"
  else
    local start=$SECONDS src=/etc/apt/sources.list.d/debian.sources
    [[ -f $src ]] || src=/etc/apt/sources.list
    # Like the official images: no docs, man pages or locales (dpkg excludes that stay in the
    # image for later installs), and apt's docker-clean so that RUN apt-get leaves no .debs or
    # package caches in layers. mmdebstrap's own apt cleanup is done in the last hook instead
    # (with docker-clean in place it would run the Post-Invoke rm on the host).
    cat >"$W/conf/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    log "making localhost/debian:${SUITE} with mmdebstrap --variant=minbase from ${src}"
    rm -f "$W/tmp/base.tar"
    # shellcheck disable=SC2016  # "$1" is the hook's argument (the new root), not ours
    if ! mmdebstrap --variant=minbase --mode=root --format=tar --skip=cleanup/apt \
      --aptopt='Acquire::Languages "none"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb' \
      --customize-hook="cp '$W/conf/docker-clean' \"\$1/etc/apt/apt.conf.d/docker-clean\"" \
      "${SUITE}" "$W/tmp/base.tar" "$src" >"$W/tmp/mmdebstrap.log" 2>&1; then
      tail -n 30 "$W/tmp/mmdebstrap.log" >&2
      die "mmdebstrap failed (log above)"
    fi
    podman import --quiet --change 'CMD ["bash"]' "$W/tmp/base.tar" "localhost/debian:${SUITE}" >/dev/null
    rm -f "$W/tmp/base.tar"
    log "base image made in $(since "$start") s"
  fi
  # FROM debian:bookworm / debian:bookworm-slim resolve to docker.io/library/..., which is blocked
  # for pulls and therefore found only locally (--pull=never).
  podman tag "localhost/debian:${SUITE}" "docker.io/library/debian:${SUITE}" \
    "localhost/debian:${SUITE}-slim" "docker.io/library/debian:${SUITE}-slim"
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

# ---- images ------------------------------------------------------------------------------------
build() {
  setup_env
  local start=$SECONDS
  log "podman build -f deploy/docker/Dockerfile -t ${IMAGE} . (as docker build; --pull=never --network=host)"
  podman build --pull=never --network=host -f "${REPO_ROOT}/deploy/docker/Dockerfile" \
    -t "${IMAGE}" "${REPO_ROOT}" >"$W/tmp/build.log" 2>&1 ||
    { tail -n 40 "$W/tmp/build.log" >&2; die "the image build failed (last lines above)"; }
  local build_s; build_s=$(since "$start")
  start=$SECONDS
  podman build --pull=never --network=host -t "${REDIS_IMAGE}" "${REPO_ROOT}/tests/container/redis" \
    >"$W/tmp/build-redis.log" 2>&1 ||
    { tail -n 40 "$W/tmp/build-redis.log" >&2; die "the Redis test image build failed"; }
  local redis_s; redis_s=$(since "$start")
  # The build stage gets a tag of its own, so that its apt layer (the -dev packages) stays
  # cached for the next build; the build stages of earlier runs, now untagged, are removed.
  podman build --pull=never --network=host --target build -f "${REPO_ROOT}/deploy/docker/Dockerfile" \
    -t "${BUILD_STAGE_IMAGE}" "${REPO_ROOT}" >>"$W/tmp/build.log" 2>&1 ||
    die "tagging the (cached) build stage failed"
  podman image prune --force >/dev/null
  local size base_size
  size=$(podman image inspect --format '{{.Size}}' "${IMAGE}")
  base_size=$(podman image inspect --format '{{.Size}}' "docker.io/library/debian:${SUITE}-slim")
  log "image ${IMAGE}: $(mb "$size") (base debian:${SUITE}-slim $(mb "$base_size"), runtime stage adds $(mb $((size - base_size)))); built in ${build_s} s; Redis test image in ${redis_s} s"
}

# ---- the check ---------------------------------------------------------------------------------
RUN=""            # this run's folder under $W/tmp (rendered charts, plans, volumes, logs)
# Fixed names (one check at a time, see the lock below): what a killed run left behind is
# removed by the next one, and netavark's per-network iptables chain (named after the network)
# is reused rather than left behind once per run.
NAME_PREFIX="dcdir-check"
NET="dcdir-check"
CONTAINERS=()     # names to remove on exit
PIDS=()           # host processes to stop on exit (Prometheus, health watchers)

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if ((rc != 0)); then
    for c in "${CONTAINERS[@]}"; do
      podman container exists "$c" 2>/dev/null || continue
      log "---- ${c}: last log lines"
      podman logs --tail 20 "$c" 2>&1 | sed 's/^/    /' >&2
    done
    [[ -f "$RUN/prometheus.log" ]] && { log "---- Prometheus log"; tail -n 10 "$RUN/prometheus.log" >&2; }
  fi
  ((${#CONTAINERS[@]} > 0)) && podman rm --force --time 0 "${CONTAINERS[@]}" >/dev/null 2>&1
  podman network exists "$NET" 2>/dev/null && podman network rm --force "$NET" >/dev/null 2>&1
  [[ -n "$RUN" && "${KEEP_RUN:-0}" != 1 ]] && rm -rf "$RUN"
  ((rc == 0)) || log "FAILED (exit ${rc})"
  exit "$rc"
}

# N distinct free TCP ports on 127.0.0.1 (bound together, then released).
free_ports() {
  "$PY" -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

probe() { PYTHONPATH="$RUN/py" "$PY" "${REPO_ROOT}/tests/container/probe.py" "$@"; }

# render NAME HELM_ARGS...: helm template of helm/dcdir -> $RUN/NAME.yaml and the run plan
# $RUN/NAME.plan.json. The image is the one just built (image.registry/tag), nothing else changes
# unless the caller sets it.
render() {
  local name=$1; shift
  "$HELM" template dcdir "${REPO_ROOT}/helm/dcdir" --namespace default --kube-version 1.31.0 \
    --set image.registry=localhost --set image.repository=dcdir/dcdir-server --set image.tag=check \
    "$@" >"$RUN/$name.yaml" || die "helm template $* failed"
  # Objects the chart expects to exist already (e.g. the TLS Secret), as a user would create them.
  [[ -f "$RUN/$name.extra.yaml" ]] && { echo '---'; cat "$RUN/$name.extra.yaml"; } >>"$RUN/$name.yaml"
  node "${REPO_ROOT}/tests/container/pod_plan.mjs" "$RUN/$name.yaml" >"$RUN/$name.plan.json" ||
    die "the rendered Deployment ($*) cannot be run as rendered (pod_plan above)"
  local image; image=$(jq -r .image "$RUN/$name.plan.json")
  [[ "$image" == "$IMAGE" ]] || die "the chart renders image ${image}, expected ${IMAGE}"
}

# start NAME PLAN: runs one replica of the plan's container detached, as Kubernetes would:
# the rendered args (and command), uid/gid and fsGroup, read-only root (without podman's extra
# tmpfs mounts), the rendered capability drops/adds, no-new-privileges, the memory limit, the
# ConfigMap and Secret volumes as files owned root:fsGroup with the rendered modes, emptyDirs.
# Every container port is published on a free 127.0.0.1 port: $RUN/NAME/ports.json maps the
# port number and its name to the host port.
start() {
  local name=$1 plan=$2 dir="$RUN/$1" n i c g kv
  mkdir -p "$dir/vol"; chmod 0755 "$dir" "$dir/vol"
  local -a run=(podman run --detach --pull=never --name "$name" --network "$NET"
    --user "$(jq -r '"\(.uid):\(.gid)"' "$plan")")
  CONTAINERS+=("$name")
  local fs_group; fs_group=$(jq -r '.fsGroup // 0' "$plan")
  for g in $(jq -r '.supplementalGroups[]' "$plan"); do run+=(--group-add "$g"); done
  [[ $(jq -r .readOnlyRootFilesystem "$plan") == true ]] && run+=(--read-only --read-only-tmpfs=false)
  for c in $(jq -r '.capDrop[]' "$plan"); do run+=("--cap-drop=$c"); done
  for c in $(jq -r '.capAdd[]' "$plan"); do run+=("--cap-add=$c"); done
  [[ $(jq -r .noNewPrivileges "$plan") == true ]] && run+=(--security-opt=no-new-privileges)
  local mem; mem=$(jq -r '.memoryLimitBytes // empty | floor' "$plan")
  [[ -n "$mem" ]] && run+=("--memory=${mem}b" "--memory-swap=${mem}b")
  local cpus; cpus=$(jq -r '.cpuLimit // empty' "$plan")
  [[ -n "$cpus" ]] && run+=("--cpus=$cpus")
  while IFS= read -r kv; do run+=(--env "$kv"); done < <(jq -r '.env[] | "\(.name)=\(.value)"' "$plan")
  n=$(jq '.mounts | length' "$plan")
  for ((i = 0; i < n; i++)); do
    local m type mpath ro src
    m=$(jq -c ".mounts[$i]" "$plan")
    type=$(jq -r .type <<<"$m"); mpath=$(jq -r .mountPath <<<"$m")
    ro=$(jq -r 'if .readOnly then "ro" else "rw" end' <<<"$m")
    src="$dir/vol/$(jq -r .name <<<"$m")"
    mkdir -p "$src"
    if [[ $type == files ]]; then
      chmod 0755 "$src"
      local nf j
      nf=$(jq '.files | length' <<<"$m")
      for ((j = 0; j < nf; j++)); do
        local f; f="$src/$(jq -r ".files[$j].path" <<<"$m")"
        mkdir -p "$(dirname "$f")"
        jq -r ".files[$j].base64" <<<"$m" | base64 -d >"$f"
        chown "0:${fs_group}" "$f"
        chmod "$(printf '%o' "$(jq -r ".files[$j].mode" <<<"$m")")" "$f"
      done
    elif [[ $(jq -r .medium <<<"$m") == Memory ]]; then
      run+=(--mount "type=tmpfs,destination=${mpath},tmpfs-mode=1777,tmpfs-size=$(jq -r '.sizeLimitBytes // 67108864 | floor' <<<"$m")")
      continue
    else
      # An emptyDir on the node's disk: writable by the pod (fsGroup, setgid, like kubelet).
      chown "0:${fs_group}" "$src"; chmod 2777 "$src"
    fi
    run+=(--volume "${src}:${mpath}:${ro}")
  done
  local -a hps
  read -ra hps <<<"$(free_ports "$(jq '.ports | length' "$plan")")"
  jq --argjson hps "$(printf '%s\n' "${hps[@]}" | jq -s .)" '[.ports | to_entries[]
    | {key: .value.name, value: $hps[.key]}, {key: "\(.value.containerPort)", value: $hps[.key]}]
    | from_entries' "$plan" >"$dir/ports.json"
  n=$(jq '.ports | length' "$plan")
  for ((i = 0; i < n; i++)); do
    run+=(--publish "127.0.0.1:${hps[$i]}:$(jq ".ports[$i].containerPort" "$plan")")
  done
  local cmd; cmd=$(jq -c '.command // empty' "$plan")
  [[ -n "$cmd" ]] && run+=(--entrypoint "$cmd")
  run+=("$IMAGE")
  mapfile -t args < <(jq -r '.args[]' "$plan")
  run+=("${args[@]}")
  printf '%q ' "${run[@]}" >"$dir/podman-run.txt"
  quiet_dns "${run[@]}" >/dev/null
}

# aardvark-dns (the network's name server, started with its first container) prints "failed to
# connect to syslog" on this syslog-less machine; everything else on stderr is kept.
quiet_dns() { "$@" 2> >(grep -v '^failed to connect to syslog' >&2); }

host_port() { jq -r --arg p "$2" '.[$p]' "$RUN/$1/ports.json"; }

# started NAME PLAN: the chart's startup probe, as kubelet runs it (every periodSeconds, at most
# failureThreshold times), while the container runs; then readiness and liveness once. A
# container that exits first (a flag the binary rejects, a bad config) fails with its output.
started() {
  local name=$1 plan=$2 start=$SECONDS period tries i status
  period=$(jq -r '.probes.startup.periodSeconds // 10' "$plan")
  tries=$(jq -r '.probes.startup.failureThreshold // 3' "$plan")
  jq -e '.probes.startup' "$plan" >/dev/null || { period=1; tries=30; }
  for ((i = 1; ; i++)); do
    status=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name")
    if [[ $status != running* ]]; then
      log "${name} exited before it was started (state: ${status}); its output:"
      podman logs "$name" 2>&1 | sed 's/^/    /' >&2
      return 1
    fi
    if [[ $(jq -r '.probes.startup' "$plan") == null ]]; then
      probe health "127.0.0.1:$(host_port "$name" grpc)" >/dev/null 2>&1 && break
    elif probe kube-probe "$plan" "$RUN/$name/ports.json" startup --container "$name" 2>/dev/null; then
      break
    fi
    ((i < tries)) || { log "${name}: startup probe failed ${tries} times"; return 1; }
    sleep "$period"
  done
  log "${name}: started after $(since "$start") s (startup probe, attempt ${i})"
  probe kube-probe "$plan" "$RUN/$name/ports.json" startup --container "$name"
  probe kube-probe "$plan" "$RUN/$name/ports.json" readiness --container "$name"
  probe kube-probe "$plan" "$RUN/$name/ports.json" liveness --container "$name"
}

# The process as the kernel sees it (from the host's /proc): the chart's uid/gid and fsGroup,
# no capabilities, no-new-privileges, seccomp, read-only root, the mounts as rendered.
check_process() {
  local name=$1 plan=$2 pid st uid gid
  pid=$(podman inspect --format '{{.State.Pid}}' "$name")
  st=$(cat "/proc/$pid/status")
  uid=$(jq -r .uid "$plan"); gid=$(jq -r .gid "$plan")
  local want_groups; want_groups=$(jq -r '.supplementalGroups | join(" ")' "$plan")
  local -A want=(
    [Uid]="$uid	$uid	$uid	$uid" [Gid]="$gid	$gid	$gid	$gid" [Groups]="${want_groups}"
    [CapInh]=0000000000000000 [CapPrm]=0000000000000000 [CapEff]=0000000000000000
    [CapBnd]=0000000000000000 [CapAmb]=0000000000000000 [NoNewPrivs]=1 [Seccomp]=2)
  [[ $(jq -r '.capDrop | join(",")' "$plan") == ALL && $(jq -r '.capAdd | length' "$plan") == 0 ]] ||
    die "the chart no longer drops ALL capabilities; update the expectations here"
  local key got
  for key in "${!want[@]}"; do
    got=$(awk -F':\t' -v k="$key" '$1 == k { print $2 }' <<<"$st" | sed 's/ *$//')
    [[ "$got" == "${want[$key]}" ]] || die "${name}: /proc/${pid}/status ${key}: '${got}', want '${want[$key]}'"
  done
  local nspid; nspid=$(awk -F':\t' '$1 == "NSpid" { print $2 }' <<<"$st")
  # The memory limit, from the process's memory cgroup (v1 here; memory.max on cgroup v2).
  local want_mem got_mem="none" cg
  want_mem=$(jq -r '.memoryLimitBytes // "none" | if type == "number" then floor else . end' "$plan")
  if cg=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup") && [[ -n "$cg" ]]; then
    got_mem=$(cat "/sys/fs/cgroup/memory${cg}/memory.limit_in_bytes")
  elif cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup") && [[ -f "/sys/fs/cgroup${cg}/memory.max" ]]; then
    got_mem=$(cat "/sys/fs/cgroup${cg}/memory.max")
  fi
  [[ "$want_mem" == none || "$got_mem" == "$want_mem" ]] ||
    die "${name}: memory limit ${got_mem}, the chart's limit is ${want_mem} bytes"
  log "${name}: host pid ${pid} (pid ${nspid##*	} in the container) $(cat "/proc/$pid/comm"): uid ${uid} gid ${gid} groups ${want_groups}, CapEff 0, NoNewPrivs 1, Seccomp 2, memory limit ${got_mem} bytes"
  # mountinfo: field 5 is the mount point, field 6 the per-mount options.
  local mi; mi=$(cat "/proc/$pid/mountinfo")
  mount_opts() { awk -v p="$1" '$5 == p { print $6 }' <<<"$mi" | tail -n 1; }
  [[ $(mount_opts /) == ro,* ]] || die "${name}: / is mounted '$(mount_opts /)', want read-only"
  local n i mpath ro opts summary="/ ro"
  n=$(jq '.mounts | length' "$plan")
  for ((i = 0; i < n; i++)); do
    mpath=$(jq -r ".mounts[$i].mountPath" "$plan")
    ro=$(jq -r "if .mounts[$i].readOnly then \"ro\" else \"rw\" end" "$plan")
    opts=$(mount_opts "$mpath")
    [[ "$opts" == "$ro",* ]] || die "${name}: ${mpath} is mounted '${opts}', want ${ro}"
    summary+=", ${mpath} ${ro}"
  done
  log "${name}: mounts ${summary}"
}

# stop NAME PLAN: what kubelet does after the preStop sleep: SIGTERM, then the process must
# say NOT_SERVING (seen on a grpc.health.v1 Watch stream opened before) and exit 0 within what
# is left of terminationGracePeriodSeconds.
stop() {
  local name=$1 plan=$2 budget watch="$RUN/$1/health-watch.txt" i
  budget=$(jq -r '.terminationGracePeriodSeconds - .preStopSleepSeconds' "$plan")
  probe watch-health "127.0.0.1:$(host_port "$name" grpc)" "$watch" &
  PIDS+=($!)
  local watcher=$!
  for ((i = 0; i < 50; i++)); do [[ -s "$watch" ]] && break; sleep 0.1; done
  [[ $(head -n 1 "$watch" 2>/dev/null) == *" SERVING" ]] ||
    die "${name}: the health Watch stream did not start with SERVING: $(cat "$watch" 2>/dev/null)"
  local t0; t0=$(date +%s.%N)
  podman kill --signal TERM "$name" >/dev/null
  local code
  code=$(timeout "$budget" podman wait "$name") ||
    die "${name}: still running ${budget} s after SIGTERM (terminationGracePeriodSeconds $(jq -r .terminationGracePeriodSeconds "$plan") - preStop sleep $(jq -r .preStopSleepSeconds "$plan") s)"
  local took; took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  wait "$watcher" 2>/dev/null || true
  [[ "$code" == 0 ]] || die "${name}: exit code ${code} after SIGTERM"
  grep -q ' NOT_SERVING$' "$watch" ||
    die "${name}: no NOT_SERVING on the health Watch stream after SIGTERM: $(tr '\n' ' ' <"$watch")"
  log "${name}: SIGTERM -> health Watch: $(awk '{ $1 = ""; sub(/^ /, ""); printf "%s, ", $0 }' "$watch")exit 0 after ${took} s (budget ${budget} s); last log line: $(podman logs --tail 1 "$name" 2>&1)"
}

check() {
  setup_env
  local start=$SECONDS
  [[ -x "$HELM" ]] || die "missing ${HELM} (scripts/install-deploy-tools.sh)"
  [[ -f "${NODE_PATH}/yaml/package.json" ]] || die "missing node module yaml (scripts/install-deploy-tools.sh)"
  command -v jq >/dev/null || die "missing jq (scripts/install-deps.sh test)"
  command -v prometheus >/dev/null || die "missing prometheus (scripts/install-prometheus.sh)"
  "$PY" -c 'import grpc, grpc_tools' 2>/dev/null ||
    die "missing python3-grpcio/python3-grpc-tools (scripts/install-deps.sh test)"
  podman image exists "$IMAGE" || die "no image ${IMAGE}: run $0 build first"
  podman image exists "$REDIS_IMAGE" || die "no image ${REDIS_IMAGE}: run $0 build first"

  # Leftovers of a run that was killed before its cleanup.
  local -a old
  mapfile -t old < <(podman ps --all --quiet --filter "name=^${NAME_PREFIX}-")
  ((${#old[@]} == 0)) || podman rm --force --time 0 "${old[@]}" >/dev/null
  podman network exists "$NET" && podman network rm --force "$NET" >/dev/null
  rm -rf "$W"/tmp/check.*

  RUN=$(mktemp -d "$W/tmp/check.XXXXXX")
  chmod 0755 "$RUN"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  podman network create "$NET" >/dev/null
  start_prometheus

  # Stubs of the contract and of Debian's grpc/health/v1/health.proto (package grpc-proto),
  # the latter as the Python module grpc_health.v1 (as grpcio-health-checking names it: a module
  # "grpc.health" would be hidden by grpcio's own "grpc" package).
  mkdir -p "$RUN/py" "$RUN/proto/grpc_health/v1"
  cp /usr/share/grpc-proto/grpc/health/v1/health.proto "$RUN/proto/grpc_health/v1/"
  "$PY" -m grpc_tools.protoc -I "${REPO_ROOT}/proto" -I "$RUN/proto" \
    --python_out="$RUN/py" --grpc_python_out="$RUN/py" "${REPO_ROOT}"/proto/dcdir/v1/*.proto \
    "$RUN/proto/grpc_health/v1/health.proto"

  # 1. Every library of the binary resolves inside the image.
  local entry libs
  entry=$(podman image inspect --format '{{index .Config.Entrypoint 0}}' "$IMAGE")
  libs=$(podman run --rm --pull=never --network=none --entrypoint /usr/bin/ldd "$IMAGE" "$entry") ||
    die "ldd ${entry} failed inside ${IMAGE}: ${libs}"
  if grep -q 'not found' <<<"$libs"; then
    die "libraries missing in the image: $(grep 'not found' <<<"$libs" | tr -s ' \t' ' ')"
  fi
  log "ldd ${entry} in the image: $(grep -c '=> /' <<<"$libs") libraries, all found"

  local token; token=$(head -c 24 /dev/urandom | base64 | tr -d '=+/\n')
  local single=(--set redis.mode=embedded --set replicaCount=1 --set "auth.token=${token}")

  # 2. Bad input: a chart value that renders a flag the binary refuses must fail the start, with
  #    the binary's own error.
  render bad "${single[@]}" --set-json 'extraArgs=["--shutdown_dely=3s"]'
  log "chart with extraArgs=[--shutdown_dely=3s] (a misspelled flag): the container must refuse to start"
  start "${NAME_PREFIX}-bad" "$RUN/bad.plan.json"
  if started "${NAME_PREFIX}-bad" "$RUN/bad.plan.json" 2>"$RUN/bad.err"; then
    die "a container with --shutdown_dely=3s started; the binary should refuse an unknown flag"
  fi
  grep -q "Unknown command line flag 'shutdown_dely'" "$RUN/bad.err" ||
    { cat "$RUN/bad.err" >&2; die "the refused start did not print the binary's unknown-flag error"; }
  sed 's/^/    | /' "$RUN/bad.err" >&2
  log "as expected: the bad flag fails the check with the binary's own error (above)"

  # 3. One replica, chart defaults but the embedded store (the in-chart Redis needs a cluster).
  render single "${single[@]}"
  local plan="$RUN/single.plan.json" c="${NAME_PREFIX}-single"
  log "chart (redis.mode=embedded, replicaCount=1, auth.token): $(jq -r '.args | join(" ")' "$plan")"
  start "$c" "$plan"
  scrape single "$c"
  started "$c" "$plan" || die "${c} did not start (output above)"
  check_process "$c" "$plan"
  local grpc; grpc="127.0.0.1:$(host_port "$c" grpc)"
  local ndcs; ndcs=$(jq '.world.datacenters | length' "$plan")
  probe health "$grpc"
  probe get "$grpc" US --expect-code UNAVAILABLE  # nothing reported yet: no usable DC
  local token_file; token_file=$(host_file "$c" "$plan" auth_token_file)
  probe auth "$grpc" "$token_file" --dc us-sjc
  probe report "$grpc" "$token_file" HEALTHY ALL --plan "$plan"
  probe get "$grpc" US --plan "$plan" --expect-primaries us
  probe prom "$PROM" 'up{replica="single"}' 1 --wait 20
  probe prom "$PROM" 'count(dcdir_datacenter_up{replica="single"} == 1)' "$ndcs" --wait 10
  probe prom "$PROM" 'dcdir_health_reports_total{replica="single",result="accepted"}' $((ndcs + 1)) --wait 10
  probe prom "$PROM" 'dcdir_health_reports_total{replica="single",result="unauthenticated"}' 2 --wait 10
  probe prom "$PROM" 'dcdir_directory_requests_total{replica="single",client_region="us",code="UNAVAILABLE"}' 1 --wait 10
  probe prom "$PROM" 'dcdir_directory_requests_total{replica="single",client_region="us",code="OK"}' 1 --wait 10
  stop "$c" "$plan"

  # 4. Two replicas on a shared Redis, wired as the chart wires an external Redis (redis.url and
  #    the password from the chart's Secret, --redis_password_file); the audit log on its emptyDir.
  local r="${NAME_PREFIX}-redis" rpass
  rpass=$(head -c 24 /dev/urandom | base64 | tr -d '=+/\n')
  CONTAINERS+=("$r")
  quiet_dns podman run --detach --pull=never --name "$r" --network "$NET" --read-only --cap-drop=ALL \
    "$REDIS_IMAGE" --requirepass "$rpass" --save '' --appendonly no >/dev/null
  local i
  for ((i = 0; i < 50; i++)); do
    [[ $(podman exec "$r" redis-cli --no-auth-warning -a "$rpass" ping 2>/dev/null) == PONG ]] && break
    sleep 0.2
  done
  ((i < 50)) || die "Redis did not answer PING"
  log "Redis $(podman exec "$r" redis-server --version | awk '{ print $3 }') up as ${r}:6379 (password set)"
  render redis --set redis.mode=external --set "redis.url=redis://${r}:6379" \
    --set "redis.auth.password=${rpass}" --set "auth.token=${token}" --set replicaCount=2 \
    --set audit.enabled=true --set audit.output=file
  plan="$RUN/redis.plan.json"
  log "chart (redis.mode=external, redis.auth.password, audit.output=file, replicaCount=$(jq .replicas "$plan")): $(jq -r '.args | join(" ")' "$plan")"
  local a="${NAME_PREFIX}-a" b="${NAME_PREFIX}-b"
  start "$a" "$plan"; scrape a "$a"
  start "$b" "$plan"; scrape b "$b"
  started "$a" "$plan" || die "${a} did not start (output above)"
  started "$b" "$plan" || die "${b} did not start (output above)"
  check_process "$a" "$plan"
  check_process "$b" "$plan"
  local ga gb
  ga="127.0.0.1:$(host_port "$a" grpc)"; gb="127.0.0.1:$(host_port "$b" grpc)"
  probe get "$gb" US --expect-code UNAVAILABLE
  probe report "$ga" "$(host_file "$a" "$plan" auth_token_file)" HEALTHY ALL --plan "$plan"
  probe get "$gb" US --plan "$plan" --expect-primaries us --wait 10
  local -a us_dcs
  mapfile -t us_dcs < <(jq -r '.world.regions[] | select(.id == "us") | .primaries[]' "$plan")
  probe report "$gb" "$(host_file "$b" "$plan" auth_token_file)" DOWN "${us_dcs[@]}"
  probe get "$ga" US --plan "$plan" --expect-primaries us --without "$(IFS=,; echo "${us_dcs[*]}")" --wait 10
  probe prom "$PROM" 'sum(dcdir_store_up{replica=~"a|b"})' 2 --wait 20
  local up=$((ndcs - ${#us_dcs[@]}))
  probe prom "$PROM" 'count(dcdir_datacenter_up{replica="a"} == 1)' "$up" --wait 10
  probe prom "$PROM" 'count(dcdir_datacenter_up{replica="b"} == 1)' "$up" --wait 10
  stop "$a" "$plan"
  stop "$b" "$plan"
  local audit; audit=$(host_file "$a" "$plan" audit_log)
  grep -q '"event":"cross_border_fallback".*"client_region":"us"' "$audit" ||
    die "${a}: no US cross-border line in its audit log (${audit}): $(cat "$audit" 2>&1)"
  log "${a}: audit log on its emptyDir: $(grep -c . "$audit") line(s), e.g. $(head -c 160 "$audit")..."

  # 5. TLS with client certificates (as helm/dcdir/ci/tls-values.yaml): the chart adds the
  #    --tls_* flags and the Secret's mount and switches its probes to TCP (startup, readiness)
  #    and GET /metrics (liveness). The kubernetes.io/tls Secret is made here, as a user would.
  local tls="$RUN/tls"
  mkdir -p "$tls"
  make_certs "$tls"
  cat >"$RUN/tls.extra.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: dcdir-tls
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 "$tls/tls.crt")
  tls.key: $(base64 -w0 "$tls/tls.key")
  ca.crt: $(base64 -w0 "$tls/ca.crt")
YAML
  render tls "${single[@]}" --set tls.enabled=true --set tls.existingSecret=dcdir-tls \
    --set tls.clientCA.enabled=true
  plan="$RUN/tls.plan.json" c="${NAME_PREFIX}-tls"
  log "chart (tls.enabled, tls.clientCA.enabled): $(jq -r '.args | join(" ")' "$plan")"
  export PROBE_TLS_CA="$tls/ca.crt"
  start "$c" "$plan"
  started "$c" "$plan" || die "${c} did not start (output above)"
  check_process "$c" "$plan"
  grpc="127.0.0.1:$(host_port "$c" grpc)"
  probe health "$grpc"
  probe get "$grpc" US --expect-code UNAVAILABLE
  stop "$c" "$plan"
  unset PROBE_TLS_CA
  log "PASS: image ${IMAGE} runs as the chart runs it (checks took $(since "$start") s)"
}

# make_certs DIR: a CA and a server certificate it signed for 127.0.0.1 (EC P-256, one day).
make_certs() {
  local d=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=dcdir-container-check-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=dcdir-server -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$d/tls.key" -out "$d/tls.csr" 2>/dev/null
  openssl x509 -req -in "$d/tls.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 1 -copy_extensions copy -out "$d/tls.crt" 2>/dev/null || die "openssl could not make the test certificates"
}

# host_file NAME PLAN FLAG: the host path of the file that --FLAG= names inside the container.
host_file() {
  local path; path=$(jq -r --arg f "--$3=" '.args[] | select(startswith($f)) | ltrimstr($f)' "$2")
  [[ -n "$path" ]] || die "the chart passes no --$3"
  local rel; rel=$(jq -r --arg p "$path" '.mounts[] | (.mountPath | rtrimstr("/")) as $m
    | select($p | startswith($m + "/")) | "\(.name)/\($p | ltrimstr($m + "/"))"' "$2" | tail -n 1)
  [[ -n "$rel" ]] || die "--$3=${path} is not on a volume of the chart"
  echo "$RUN/$1/vol/${rel}"
}

# A real Prometheus scraping every dcdir container's published metrics port (file_sd: a target
# is added when its container starts; label replica=NAME).
PROM=""
start_prometheus() {
  local port; port=$(free_ports 1)
  PROM="http://127.0.0.1:${port}"
  echo '[]' >"$RUN/targets.json"
  cat >"$RUN/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: dcdir
    scrape_interval: 1s
    metrics_path: /metrics
    file_sd_configs:
      - files: ["$RUN/targets.json"]
        refresh_interval: 1s
YAML
  prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/tsdb" \
    --web.listen-address="127.0.0.1:${port}" --log.level=warn >"$RUN/prometheus.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 100; i++)); do
    curl -fsS "${PROM}/-/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  ((i < 100)) || die "Prometheus did not get ready on ${PROM}"
  log "Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') on ${PROM}"
}

scrape() {
  local label=$1 name=$2 port
  port=$(host_port "$name" metrics)
  [[ "$port" != null ]] || die "${name}: the chart publishes no port named metrics"
  jq --arg t "127.0.0.1:${port}" --arg r "$label" '. + [{targets: [$t], labels: {replica: $r}}]' \
    "$RUN/targets.json" >"$RUN/targets.json.new"
  mv "$RUN/targets.json.new" "$RUN/targets.json"
}

# One image build or check at a time on this machine: they share the image tags, the container
# and network names, and the host's iptables (published ports).
lock() {
  mkdir -p "$W"
  exec 9>"$W/lock"
  flock 9
}
# Long-lived helpers podman starts (conmon, aardvark-dns) must not inherit the lock's fd.
podman() { command podman "$@" 9>&-; }

case "${1:-all}" in
  base | build | check | all | clean)
    [[ $(id -u) == 0 ]] || die "needs root (rootful podman, mmdebstrap --mode=root)"
    lock ;;
esac
case "${1:-all}" in
  env) write_conf; env_lines ;;
  install) install ;;
  base) base ;;
  build) build ;;
  check) check ;;
  all)
    t0=$SECONDS; install; t1=$SECONDS; base; t2=$SECONDS; build; t3=$SECONDS
    check
    log "stage times: install $((t1 - t0)) s, base images $((t2 - t1)) s, builds $((t3 - t2)) s, checks $(since "$t3") s; total $(since "$t0") s" ;;
  clean)
    setup_env
    podman rm --all --force --time 0 >/dev/null 2>&1 || true
    podman rmi --all --force >/dev/null 2>&1 || true
    rm -rf "$W/storage" "$W/run" "$W/tmp" "$W/networks"
    log "removed the containers, images and storage under $W" ;;
  *) echo "usage: $0 [all|install|base|build|check|env|clean]" >&2; exit 2 ;;
esac
