# Shared constants and helpers for scripts/setup, scripts/teardown and scripts/images/*.
# Sourced, not executed. The paths below are the test environment's shared constants
# (briefs/common.md): other components' tests rely on them, so change them only together.

TT_ETC=/etc/tether-test
TT_LIB=/var/lib/tether-test
TT_RUN=/run/tether-test
TT_LOG=/var/log/tether-test

TT_CONTAINERD_CONFIG=$TT_ETC/containerd.toml
TT_CONTAINERD_ROOT=$TT_LIB/containerd
TT_CONTAINERD_STATE=$TT_RUN/containerd
TT_CONTAINERD_SOCK=$TT_CONTAINERD_STATE/containerd.sock
TT_CONTAINERD_PID=$TT_RUN/containerd.pid
TT_CONTAINERD_LOGFILE=$TT_LOG/containerd.log
TT_RUNC_ROOT=$TT_RUN/runc
TT_CERTS_D=$TT_ETC/certs.d

TT_CNI_BIN=/usr/lib/cni
TT_CNI_CONF_DIR=$TT_ETC/cni/net.d
TT_CNI_CONFLIST=$TT_CNI_CONF_DIR/10-tether.conflist
TT_CNI_BRIDGE=tether0
TT_CNI_SUBNET=10.88.0.0/16

TT_REGISTRY_ADDR=127.0.0.1:5000
TT_REGISTRY_HOST=localhost:5000
TT_REGISTRY_CONFIG=$TT_ETC/registry.yml
TT_REGISTRY_STORAGE=$TT_LIB/registry
TT_REGISTRY_PID=$TT_RUN/registry.pid
TT_REGISTRY_LOGFILE=$TT_LOG/registry.log

TT_IMAGE_SHELL=$TT_REGISTRY_HOST/tether/shell:1
TT_IMAGE_PAUSE=$TT_REGISTRY_HOST/tether/pause:1

tt_step() { echo "== $*"; }
tt_die() {
  echo "error: $*" >&2
  exit 1
}

# Usage: tt_require_root "why root is needed"
tt_require_root() {
  [ "$(id -u)" = 0 ] || tt_die "$(basename "$0") must run as root ($1). Try: sudo bash $0"
}

# True when the pid in FILE names a live process.
tt_pid_alive() {
  local file=$1 pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Polls CMD... every 0.1 s for up to SECONDS; true as soon as it succeeds.
tt_wait_for() {
  local seconds=$1
  shift
  local i
  for ((i = 0; i < seconds * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Stops the process whose pid is in FILE: TERM, then KILL after 10 s. Removes FILE.
tt_stop_pidfile() {
  local file=$1 pid i
  if tt_pid_alive "$file"; then
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# A missing socket fails at once; a dead one within the 2 s connect timeout (ctr would wait 10 s).
tt_containerd_answers() { [ -S "$TT_CONTAINERD_SOCK" ] && ctr --address "$TT_CONTAINERD_SOCK" --connect-timeout 2s version; }
tt_registry_answers() { curl -fsS --max-time 2 "http://$TT_REGISTRY_ADDR/v2/"; }

# True when the registry has a manifest for REPO:TAG (OCI or Docker v2 schema).
tt_registry_has() {
  local repo=$1 tag=$2
  curl -fs --max-time 5 -o /dev/null -I \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$TT_REGISTRY_ADDR/v2/$repo/manifests/$tag"
}

tt_now_ms() { date +%s%3N; }
# Seconds since START_MS (from tt_now_ms), with one decimal: "12.3".
tt_since() {
  local ms=$(($(tt_now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}
