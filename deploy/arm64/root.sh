#!/usr/bin/env bash
# Build (once) an arm64 Debian bookworm root under .cache/arm64/root, run under qemu-user
# emulation, with the agent installed in /opt/linas/venv from aarch64 wheels under the
# constraints. Latency measured in it means nothing: it proves install, protocol and isolation
# on the board's architecture, not speed.
#
# The debootstrapped root is kept; the venv is rebuilt when constraints.txt or pyproject.toml
# change (the stamp holds their hash). Needs root the first time (debootstrap, binfmt_misc).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=.cache/arm64/root
STAMP=$ROOT/opt/linas/.stamp
HASH=$(cat constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)
HOST_CA=/etc/ssl/certs/ca-certificates.crt

need_root() {
	[ "$(id -u)" = 0 ] || {
		echo "arm64 root: $1 needs root (sudo make test-arm64), or build it once as root" >&2
		exit 1
	}
}

# qemu-user-static registered with binfmt_misc, so the kernel runs aarch64 binaries.
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
	need_root "registering qemu-aarch64 with binfmt_misc"
	command -v debootstrap >/dev/null && [ -x /usr/bin/qemu-aarch64-static ] || {
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap qemu-user-static \
			binfmt-support >/dev/null
	}
	mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	update-binfmts --enable qemu-aarch64
fi

if [ ! -x $ROOT/usr/bin/python3 ]; then
	need_root "debootstrap of the arm64 root"
	command -v debootstrap >/dev/null || {
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	}
	echo "arm64 root: debootstrap --arch=arm64 bookworm into $ROOT (first build only)"
	rm -rf $ROOT && mkdir -p $ROOT
	start=$(date +%s)
	debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,ca-certificates \
		bookworm $ROOT http://deb.debian.org/debian >.cache/arm64/debootstrap.log 2>&1 || {
		tail -n 20 .cache/arm64/debootstrap.log >&2
		exit 1
	}
	echo "arm64 root: debootstrap took $(($(date +%s) - start)) s"
fi

# linas-sdk is pure Python: its wheel is built here from this checkout, every time (seconds).
rm -rf $ROOT/opt/linas/dist && mkdir -p $ROOT/opt/linas/dist
python3 -m pip wheel -q --no-deps -w $ROOT/opt/linas/dist . >/dev/null
WHEEL=/opt/linas/dist/$(basename $ROOT/opt/linas/dist/linas_sdk-*.whl)

# The venv, with every other package an aarch64 wheel, is rebuilt only when the pins change.
if [ "$(cat $STAMP 2>/dev/null)" != "$HASH" ]; then
	need_root "installing the agent into the arm64 root"
	rm -rf $ROOT/opt/linas/venv
	# Package downloads here pass a TLS-inspecting proxy: the root trusts what the host trusts.
	cp $HOST_CA $ROOT/opt/linas/host-ca.crt
	cp constraints.txt $ROOT/opt/linas/
	start=$(date +%s)
	deploy/arm64/chroot.sh /bin/sh -c "
		set -e
		export PIP_CERT=/opt/linas/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1
		python3 -m venv /opt/linas/venv
		pip install -q --only-binary=:all: --no-cache-dir -c /opt/linas/constraints.txt \
			'$WHEEL[agent,litert]'"
	echo "arm64 root: agent venv built in $(($(date +%s) - start)) s"
	echo "$HASH" >$STAMP
else
	deploy/arm64/chroot.sh pip install -q --no-deps --force-reinstall "$WHEEL"
fi
