"""Objectives and constraints: parse forms, minimised vectors, feasibility, errors."""

from __future__ import annotations

import numpy as np
import pytest

from linas_sdk.errors import InvalidArgument
from linas_sdk.objectives import (
    Constraint,
    Objective,
    from_minimised,
    parse_constraints,
    parse_objectives,
    to_minimise,
    violations,
)


def test_parse_forms_and_minimised_vector():
    acc, lat = parse_objectives(["acc_cifar100:max", "latency_ms:min:ms"])
    assert (acc.name, acc.direction, acc.unit) == ("acc_cifar100", "max", "")
    assert acc.source == "acc_cifar100"
    assert (lat.name, lat.direction, lat.unit) == ("latency_ms", "min", "ms")
    record = {"acc_cifar100": 70.0, "latency_ms": 3.5, "other": "x"}
    F = to_minimise([acc, lat], record)
    assert F.tolist() == [-70.0, 3.5]
    assert from_minimised([acc, lat], F).tolist() == [70.0, 3.5]


def test_source_maps_a_measured_field_to_an_objective_name():
    lat = Objective("latency_ms", "min", unit="ms", source="median_ms")
    mem = Objective.parse("peak_memory_bytes:min:B")
    assert to_minimise([lat, mem], {"median_ms": 2.0, "peak_memory_bytes": 1e6}).tolist() == [
        2.0, 1e6
    ]
    assert parse_objectives([{"name": "acc", "direction": "max", "source": "accuracy"}, lat])[
        0
    ].source == "accuracy"


def test_constraints_are_g_le_zero_feasibility():
    c1, c2 = parse_constraints(["latency_ms<=5", "acc >= 60.5"])
    assert (c1.source, c1.op, c1.bound) == ("latency_ms", "<=", 5.0)
    record = {"latency_ms": 4.0, "acc": 70.0}
    G = violations([c1, c2], record)
    assert G.tolist() == [-1.0, -9.5]
    assert np.all(G <= 0)
    G = violations([c1, c2], {"latency_ms": 6.0, "acc": 50.0})
    assert G.tolist() == [1.0, 10.5]
    assert str(Constraint.parse("x<=1e-3")) == "x<=0.001"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["acc"], "needs a direction"),
        (["acc:", "lat:min"], "needs a direction"),
        (["acc:up", "lat:min"], "direction 'min' or 'max'"),
        ([{"name": "acc"}, "lat:min"], "has no 'direction'"),
        (["acc:max"], "2 to 4 objectives"),
        (["a:max", "b:min", "c:min", "d:min", "e:min"], "2 to 4 objectives"),
        (["a:max", "a:min"], "unique"),
    ],
)
def test_bad_objectives_are_refused(items, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_objectives(items)


@pytest.mark.parametrize("text", ["latency_ms<5", "latency_ms<=fast", "<=5", "a==1"])
def test_bad_constraints_are_refused(text):
    with pytest.raises(InvalidArgument, match="is not of the form"):
        Constraint.parse(text)


def test_a_record_without_the_source_names_what_it_has():
    with pytest.raises(InvalidArgument, match=r"has no 'median_ms'; it has \['mean_ms'\]"):
        to_minimise(parse_objectives(["median_ms:min", "x:max"]), {"mean_ms": 1.0})
