#!/usr/bin/env bash
# Run a command inside the arm64 root (.cache/arm64/root) under qemu-user emulation. /proc and
# /dev are mounted in a private mount namespace, so they vanish with the command and several
# commands may run in the root at once. /sys is not: it would be the x86 host's, and with it
# onnxruntime's CPU probe (cpuinfo) crashes under qemu-user 7.2; so the agent's clock, governor
# and thermal probes find nothing here, as on a board that exposes none. The network is the
# host's: an agent served inside listens on the host's loopback.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)/.cache/arm64/root
[ -x "$ROOT/usr/bin/python3" ] || { echo "no arm64 root at $ROOT: run deploy/arm64/root.sh" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "entering the arm64 root needs root (chroot, mounts)" >&2; exit 1; }
exec unshare --mount --propagation private /bin/sh -c '
	root=$1; shift
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	exec chroot "$root" /usr/bin/env -i PATH=/opt/linas/venv/bin:/usr/bin:/bin HOME=/root \
		LANG=C.UTF-8 "$@"' chroot-arm64 "$ROOT" "$@"
