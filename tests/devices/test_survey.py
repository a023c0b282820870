"""What `linas devices list` reports beside the agent's manifest, and a LocalAgent's clean stop."""

from __future__ import annotations

import dataclasses
import os

import pytest
from linas_host.devices import DeviceSpec
from linas_host.devices.render import device_rows
from linas_host.devices.survey import survey

pytestmark = pytest.mark.timeout(60)


def board_without_litert(agent_process, tmp_path, name: str):
    """A real agent on a board where LiteRT does not import (a package of that name that
    refuses to load comes first on its path)."""
    (tmp_path / "ai_edge_litert").mkdir()
    (tmp_path / "ai_edge_litert" / "__init__.py").write_text(
        'raise ImportError("LiteRT is not installed on this board")\n'
    )
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    return agent_process(name=name, env={"PYTHONPATH": path})


def test_survey_flags_where_the_file_and_the_agent_disagree(scripted, agent_process, tmp_path):
    agent = board_without_litert(agent_process, tmp_path, "pi5-b")
    old = scripted(protocol_version=99)
    reports = survey([
        DeviceSpec(name="pi", address=agent.address, runtime="litert"),
        DeviceSpec(name="old", address=old.address),
        DeviceSpec(name="gone", address="127.0.0.1:1", timeouts={"rpc_s": 2}),
    ])
    pi, refused, gone = reports
    assert pi.alive and set(pi.warnings) == {
        *pi.info.warnings,  # the agent's own (CPU governor, throttling), which vary by machine
        "the agent calls itself 'pi5-b'",
        "runtime litert is not offered (the agent has onnxruntime)",
    }
    assert not refused.alive and "version 99" in refused.error
    assert not gone.alive and gone.error.startswith("GetInfo: ")  # the row names the device
    assert [r.to_dict()["name"] for r in reports] == ["pi", "old", "gone"]


def test_the_devices_table_says_what_int8_costs(scripted, live_device):
    older = scripted()  # its manifest has no int8 fields, as an agent from before them
    reports = survey([live_device, DeviceSpec(name="old", address=older.address)])
    columns, (live, old) = device_rows(reports)
    int8 = columns.index("int8")
    dot = reports[0].info.cpu_int8_dot
    assert dot is not None and live[int8] == (",".join(dot) or "emulated")
    assert old[int8] == "?"  # not known, which is not "emulated"
    none = dataclasses.replace(reports[0], info=dataclasses.replace(reports[0].info,
                                                                    cpu_int8_dot=()))  # fmt: skip
    assert device_rows([none])[1][0][int8] == "emulated"


def test_local_agent_stops_cleanly_and_leaves_no_process(local_agents):
    agent = local_agents("brief")
    group = agent.pid
    assert agent.stop() == 0  # SIGTERM: a clean exit
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # nothing of its process group is left to signal
