"""The device manifest readers, on a copy of the /proc and /sys files a Raspberry Pi exposes
(the real tree of this machine is exercised by the GetInfo test)."""

from __future__ import annotations

from pathlib import Path

from linas_agent import system

from linas_sdk.measurement import RuntimeInfo


def pi_tree(root: Path, throttled: str, governor: str = "ondemand") -> Path:
    files = {
        "proc/cpuinfo": "processor\t: 0\nBogoMIPS\t: 108.00\n\nModel\t\t: Raspberry Pi 5 Model B\n",
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
    info = system.device_info(
        name="pi", labels={"board": "pi5"}, runtimes=[RuntimeInfo("onnxruntime", "1")], root=root
    )
    assert info.cpu_model == "Raspberry Pi 5 Model B"
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
    info = system.device_info(name="", labels={}, runtimes=[], root=root)
    assert info.name == info.hostname and not info.throttled and info.warnings == ()
    assert system.throttle_flags(pi_tree(tmp_path, throttled="0x4")) == (True, True)


def test_missing_files_leave_fields_empty(tmp_path) -> None:
    assert system.cpu_governor(tmp_path) == ""
    assert system.thermal_zones(tmp_path) == {}
    assert system.throttle_flags(tmp_path) == (False, False)
    assert system.cpu_freq_mhz(tmp_path) == ()
