"""`linas measure MODEL --device NAME|HOST:PORT`: time a model on a device, print its stats.

Prints a table of the statistics, or JSON with --json. Thin wrapper over
linas_host.devices.AgentClient. The device is a name from the devices file given with -d, or an
address (token, if any, from LINAS_AGENT_TOKEN). Every measurement setting of
linas_sdk.measurement.MeasureSettings has a flag; unset ones keep MeasureSettings' defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from linas_host.commands.flags import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    from linas_sdk.measurement import MeasureSettings

    parser = subparsers.add_parser(
        "measure",
        help="measure a model (.onnx or .tflite) on a device",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument("model", type=Path, help="the model file (.onnx or .tflite)")
    parser.add_argument("--device", required=True, help="a device name (with -d) or HOST:PORT")
    parser.add_argument("-d", "--devices", type=Path, help="the devices file that names it")
    parser.add_argument("--runtime", choices=["onnxruntime", "litert"],
                        help="default: the one that reads the model's format")
    parser.add_argument("--provider", help="execution provider or delegate (default: CPU)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = default)")
    parser.add_argument("--validation", type=Path, help="a validation set (.npz with x and y)")
    parser.add_argument("--metric", choices=["top1", "outputs"],
                        help="what to do with the validation set (default: top1)")
    add_json(parser)
    group = parser.add_argument_group("measurement settings (unset: the defaults shown)")
    for field in dataclasses.fields(MeasureSettings):
        flag = "--" + field.name.replace("_", "-")
        if field.type == "bool":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        else:
            kind = int if field.type == "int" else float
            group.add_argument(flag, type=kind, metavar=kind.__name__.upper(),
                               help=f"(default {field.default})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from linas_host.devices.client import AgentClient
    from linas_host.devices.config import DeviceSpec, load_devices
    from linas_host.devices.render import measurement_table
    from linas_sdk.errors import InvalidArgument
    from linas_sdk.measurement import MeasureRequest, MeasureSettings

    specs = load_devices(args.devices).devices if args.devices else {}
    if args.device in specs:
        spec = specs[args.device]
    elif ":" in args.device:
        spec = DeviceSpec(name=args.device, address=args.device)
    else:
        where = f"in {args.devices}" if args.devices else "(no devices file given with -d)"
        raise InvalidArgument(
            f"device {args.device!r} is not a name {where} nor a HOST:PORT address"
        )
    settings = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(MeasureSettings)
        if getattr(args, field.name) is not None
    }
    request = MeasureRequest(
        runtime=args.runtime, provider=args.provider, threads=args.threads, settings=settings,
        metric=args.metric,
    )
    with AgentClient(spec) as client:
        client.get_info()  # refuses an agent of another protocol version before uploading
        measurement = client.measure(args.model, request, validation=args.validation)
        uploaded = client.uploaded_bytes
    if args.json:
        print(json.dumps({**measurement.to_dict(), "uploaded_bytes": uploaded}, indent=2))
    else:
        Console().print(measurement_table(measurement))
        print(f"uploaded {uploaded} bytes")
    return 0
