"""What the board is and what state it is in: the device manifest and point-in-time snapshots.

Everything is read from /proc and /sys where Linux exposes it (cpufreq, thermal zones, the
Raspberry Pi firmware's throttle flags, the CPU's flags) and left empty where a board does
not. `root` (and `machine`) let a test point the readers at a copy of another board's trees.
"""

from __future__ import annotations

import os
import platform
import re
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path

from linas_sdk import __version__
from linas_sdk.grpc_settings import PROTOCOL_VERSION
from linas_sdk.measurement import DeviceInfo, RuntimeInfo, SystemSnapshot

ROOT = Path("/")
PI_THROTTLED = "sys/devices/platform/soc/soc:firmware/get_throttled"
PI_THROTTLED_NOW = 0xF  # under-voltage, frequency capped, throttled, soft temperature limit
PI_THROTTLED_EVER = 0xF000F  # ...now, or at some point since boot


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def _cpu_dirs(root: Path) -> list[Path]:
    cpus = (root / "sys/devices/system/cpu").glob("cpu[0-9]*")
    return sorted(cpus, key=lambda p: int(p.name[3:]))


def cpu_model(root: Path = ROOT) -> str:
    """The CPU model from /proc/cpuinfo, or the board model from the device tree."""
    fields = {}
    for line in _read(root / "proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    board = _read(root / "proc/device-tree/model").rstrip("\x00")
    model = fields.get("model name") or fields.get("model") or board or fields.get("hardware")
    return model or platform.processor() or platform.machine()


def memory_bytes(root: Path = ROOT) -> int:
    match = re.search(r"MemTotal:\s+(\d+)\s*kB", _read(root / "proc/meminfo"))
    return int(match.group(1)) * 1024 if match else 0


def os_description(root: Path = ROOT) -> str:
    """e.g. "Debian GNU/Linux 12 (bookworm), Linux 6.1.0-rpi7-rpi-v8"."""
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', _read(root / "etc/os-release"), re.M)
    kernel = f"{platform.system()} {platform.release()}"
    return f"{match.group(1)}, {kernel}" if match else kernel


def cpu_governor(root: Path = ROOT) -> str:
    return _read(root / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")


def cpu_freq_mhz(root: Path = ROOT) -> tuple[float, ...]:
    """Current frequency of each core (cpufreq, else /proc/cpuinfo), empty if not exposed."""
    freqs = []
    for cpu in _cpu_dirs(root):
        khz = _read(cpu / "cpufreq/scaling_cur_freq")
        if khz.isdigit():
            freqs.append(int(khz) / 1000.0)
    if freqs:
        return tuple(freqs)
    found = re.findall(r"^cpu MHz\s*:\s*([\d.]+)", _read(root / "proc/cpuinfo"), re.M)
    return tuple(float(f) for f in found)


def thermal_zones(root: Path = ROOT) -> dict[str, float]:
    """Temperature of each thermal zone in Celsius, keyed by the zone's type (made unique)."""
    zones: dict[str, float] = {}
    paths = (root / "sys/class/thermal").glob("thermal_zone*")
    for zone in sorted(paths, key=lambda p: int(p.name.removeprefix("thermal_zone") or 0)):
        temp = _read(zone / "temp")
        if not temp.lstrip("-").isdigit():
            continue
        name = _read(zone / "type") or zone.name
        key, n = name, 1
        while key in zones:
            key, n = f"{name}.{n}", n + 1
        zones[key] = int(temp) / 1000.0
    return zones


def throttle_flags(root: Path = ROOT) -> tuple[bool, bool]:
    """(throttled now, throttled at some point since boot), from the Raspberry Pi firmware or
    the x86 thermal throttle counters; (False, False) where neither is exposed."""
    pi = _read(root / PI_THROTTLED)
    if pi:
        try:
            bits = int(pi, 16)
        except ValueError:
            return False, False
        return bool(bits & PI_THROTTLED_NOW), bool(bits & PI_THROTTLED_EVER)
    counts = [
        _read(cpu / "thermal_throttle/core_throttle_count") for cpu in _cpu_dirs(root)
    ]
    ever = any(c.isdigit() and int(c) > 0 for c in counts)
    return False, ever


INT8_DOT_FLAGS = {
    "flags": ("avx_vnni", "avx512_vnni", "amx_int8"),  # x86: AVX-VNNI, AVX512-VNNI, AMX
    "features": ("asimddp", "i8mm"),  # arm64: dotprod, int8 matrix multiply
}
"""The int8 dot-product instructions, by the /proc/cpuinfo key that lists them per core."""
CPUINFO_KEYS = {"x86_64": "flags", "aarch64": "features"}
"""Which key of /proc/cpuinfo lists the CPU's flags, by Linux's name of the machine."""


def int8_dot_product(cpuinfo: str, machine: str) -> tuple[str, ...] | None:
    """The int8 dot-product instructions every core of `cpuinfo` lists (a thread may run on
    any), () for none, None when `cpuinfo` lists no flags for `machine`'s architecture (another
    architecture, or an emulator's /proc showing the host's)."""
    key = CPUINFO_KEYS.get(machine)
    cores = [
        set(value.split())
        for name, _, value in (line.partition(":") for line in cpuinfo.splitlines())
        if name.strip().lower() == key
    ]
    if not cores:
        return None
    common = set.intersection(*cores)
    return tuple(flag for flag in INT8_DOT_FLAGS[key] if flag in common)


def snapshot(root: Path = ROOT) -> SystemSnapshot:
    """Temperatures, frequencies and throttling right now."""
    now, _ = throttle_flags(root)
    return SystemSnapshot(thermal_zones(root), cpu_freq_mhz(root), now)


def state_warnings(governor: str, throttled: bool) -> list[str]:
    """Why latency figures from this board may be unreliable."""
    warnings = []
    if governor and governor != "performance":
        warnings.append(
            f"CPU governor is '{governor}', not 'performance': frequency scaling adds noise "
            "(fix: echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/"
            "scaling_governor)"
        )
    if throttled:
        warnings.append(
            "the board reports throttling (under-voltage or temperature): timings may be slow"
        )
    return warnings


def int8_warnings(dot: tuple[str, ...] | None, machine: str) -> list[str]:
    """Why int8 models would run emulated here: the CPU has no int8 dot-product instruction."""
    if dot != ():
        return []
    looked_for = ", ".join(INT8_DOT_FLAGS[CPUINFO_KEYS[machine]])
    return [
        f"the CPU has no int8 dot-product instructions (/proc/cpuinfo lists none of "
        f"{looked_for}): int8 kernels fall back to widening multiplies, so an int8 model may "
        "run little faster than float32 here, or slower"
    ]


def device_info(
    *,
    name: str,
    labels: Mapping[str, str],
    runtimes: Iterable[RuntimeInfo],
    root: Path = ROOT,
    machine: str = "",
) -> DeviceInfo:
    """The device manifest, read fresh (temperatures and throttling change). `machine`
    defaults to this one's (`platform.machine()`)."""
    machine = machine or platform.machine()
    governor = cpu_governor(root)
    _, throttled = throttle_flags(root)
    dot = int8_dot_product(_read(root / "proc/cpuinfo"), machine)
    hostname = socket.gethostname()
    return DeviceInfo(
        name=name or hostname,
        labels=dict(labels),
        hostname=hostname,
        os=os_description(root),
        machine=machine,
        cpu_model=cpu_model(root),
        cpu_count=os.cpu_count() or 0,
        memory_bytes=memory_bytes(root),
        python_version=platform.python_version(),
        agent_version=__version__,
        protocol_version=PROTOCOL_VERSION,
        runtimes=tuple(runtimes),
        cpu_governor=governor,
        thermal_zones=thermal_zones(root),
        throttled=throttled,
        warnings=tuple(state_warnings(governor, throttled) + int8_warnings(dot, machine)),
        cpu_int8_dot=dot,
    )
