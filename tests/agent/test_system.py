"""The device manifest readers, on a copy of the /proc and /sys files a Raspberry Pi exposes
(the real tree of this machine is exercised by the GetInfo test).

cpuinfo/ holds real /proc/cpuinfo files: this machine's (a Sapphire Rapids Xeon VM: AVX-VNNI,
AVX512-VNNI, AMX); a Core i7-6700's first core (Skylake: AVX2, no VNNI), from a blog's
`cat /proc/cpuinfo`; a Raspberry Pi 5's (Cortex-A76: dotprod, no i8mm) and a Raspberry Pi 4's
(Cortex-A72: neither), from a board test's log and a blog, both on 64-bit Raspberry Pi OS.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linas_agent import system

from linas_sdk.measurement import RuntimeInfo

CPUINFO = Path(__file__).resolve().parent / "cpuinfo"
PI5 = (CPUINFO / "aarch64-raspberry-pi-5.txt").read_text()
PI4 = (CPUINFO / "aarch64-raspberry-pi-4.txt").read_text()


def pi_tree(root: Path, throttled: str, governor: str = "ondemand", cpuinfo: str = PI5) -> Path:
    files = {
        "proc/cpuinfo": cpuinfo,
        "proc/meminfo": "MemTotal:        8245856 kB\nMemFree: 1 kB\n",
        "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
        "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": governor + "\n",
        "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq": "2400000\n",
        "sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq": "1500000\n",
        "sys/class/thermal/thermal_zone0/type": "cpu-thermal\n",
        "sys/class/thermal/thermal_zone0/temp": "61250\n",
        "sys/class/thermal/thermal_zone1/type": "cpu-thermal\n",
        "sys/class/thermal/thermal_zone1/temp": "40000\n",
        system.PI_THROTTLED: throttled + "\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_raspberry_pi_manifest(tmp_path) -> None:
    root = pi_tree(tmp_path, throttled="0x50000")  # throttled and capped in the past, not now
    info = system.device_info(name="pi", labels={"board": "pi5"},
                              runtimes=[RuntimeInfo("onnxruntime", "1")], root=root,
                              machine="aarch64")  # fmt: skip
    assert info.cpu_model == "Raspberry Pi 5 Model B Rev 1.0"
    assert info.machine == "aarch64" and info.cpu_int8_dot == ("asimddp",)
    assert info.memory_bytes == 8245856 * 1024
    assert info.os.startswith("Debian GNU/Linux 12 (bookworm), ")
    assert info.cpu_governor == "ondemand"
    assert info.thermal_zones == {"cpu-thermal": 61.25, "cpu-thermal.1": 40.0}
    assert info.throttled
    assert any("governor is 'ondemand'" in w for w in info.warnings)
    assert any("throttling" in w for w in info.warnings)
    now = system.snapshot(root)
    assert now.cpu_freq_mhz == (2400.0, 1500.0) and not now.throttled


def test_quiet_board_has_no_warnings(tmp_path) -> None:
    root = pi_tree(tmp_path, throttled="0x0", governor="performance")
    info = system.device_info(name="", labels={}, runtimes=[], root=root, machine="aarch64")
    assert info.name == info.hostname and not info.throttled and info.warnings == ()
    assert system.throttle_flags(pi_tree(tmp_path, throttled="0x4")) == (True, True)


def test_missing_files_leave_fields_empty(tmp_path) -> None:
    assert system.cpu_governor(tmp_path) == ""
    assert system.thermal_zones(tmp_path) == {}
    assert system.throttle_flags(tmp_path) == (False, False)
    assert system.cpu_freq_mhz(tmp_path) == ()


@pytest.mark.parametrize(("cpuinfo", "machine", "expected"), [
    ("x86_64-xeon-sapphire-rapids.txt", "x86_64", ("avx_vnni", "avx512_vnni", "amx_int8")),
    ("x86_64-core-i7-6700.txt", "x86_64", ()),
    ("aarch64-raspberry-pi-5.txt", "aarch64", ("asimddp",)),
    ("aarch64-raspberry-pi-4.txt", "aarch64", ()),
    # the flags of another architecture (an emulator showing the host's /proc): not known
    ("x86_64-xeon-sapphire-rapids.txt", "aarch64", None),
    ("aarch64-raspberry-pi-5.txt", "x86_64", None),
    ("aarch64-raspberry-pi-5.txt", "armv7l", None),  # a 32-bit userland: not read
])  # fmt: skip
def test_int8_dot_product_from_real_cpuinfo(cpuinfo, machine, expected) -> None:
    assert system.int8_dot_product((CPUINFO / cpuinfo).read_text(), machine) == expected


def test_int8_dot_product_needs_every_core() -> None:
    """A thread may be moved to any core: an instruction one core lacks cannot be relied on."""
    last = PI5.rindex("asimddp")
    assert system.int8_dot_product(PI5[:last] + PI5[last + len("asimddp"):], "aarch64") == ()


def test_a_cpu_without_int8_dot_product_is_warned_about(tmp_path) -> None:
    root = pi_tree(tmp_path, throttled="0x0", governor="performance", cpuinfo=PI4)
    info = system.device_info(name="pi4", labels={}, runtimes=[], root=root, machine="aarch64")
    assert info.cpu_int8_dot == ()
    (warning,) = info.warnings
    assert "no int8 dot-product instructions" in warning and "asimddp, i8mm" in warning
    assert "widening multiplies" in warning
    unknown = system.device_info(name="pi4", labels={}, runtimes=[], root=root, machine="riscv64")
    assert unknown.cpu_int8_dot is None and unknown.warnings == ()  # not known: no warning
