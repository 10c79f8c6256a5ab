from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from unlearnkit.data import Samples
from unlearnkit.errors import (
    DataValidationError,
    DuplicateIdError,
    InvalidRequestError,
    UnknownIdError,
)
from unlearnkit.requests import ForgetRequest


@pytest.fixture
def samples():
    df = pd.DataFrame(
        {
            "client": [101, 102, 103, 104, 105],
            "age": [25, 61, 47, 70, 33],
            "income": [1.0, 2.0, 3.0, 4.0, 5.0],
            "person": ["ann", "bob", "ann", "cy", "dee"],
            "sex": ["f", "m", "f", "m", "f"],
            "y": [0, 1, 1, 0, 2],
        }
    )
    return Samples.from_frame(
        df, target="y", id_column="client", subject_column="person", group_columns=["sex"]
    )


def test_from_frame_splits_columns(samples):
    assert samples.feature_names == ["age", "income"]
    assert samples.ids.tolist() == [101, 102, 103, 104, 105]
    assert samples.subjects.tolist() == ["ann", "bob", "ann", "cy", "dee"]
    assert len(samples) == 5


def test_resolve_every_sample_removing_kind(samples):
    assert samples.resolve(ForgetRequest.items([104, 101])) == (104, 101)
    assert samples.resolve(ForgetRequest.of_subject("ann")) == (101, 103)
    assert samples.resolve(ForgetRequest.group({"sex": "m"})) == (102, 104)
    assert samples.resolve(ForgetRequest.group({"sex": "f", "age": [25, 33]})) == (101, 105)
    assert samples.resolve(ForgetRequest.group(lambda t: (t["age"] > 60).to_numpy())) == (102, 104)
    assert samples.resolve(ForgetRequest.classes([1, 2])) == (102, 103, 105)
    assert samples.resolve(ForgetRequest.relabel({102: 0})) == (102,)
    assert samples.resolve(ForgetRequest.features(["age"])) == ()


def test_resolve_errors_name_the_problem(samples):
    with pytest.raises(UnknownIdError, match="999"):
        samples.resolve(ForgetRequest.items([999]))
    with pytest.raises(InvalidRequestError, match="'region'"):
        samples.resolve(ForgetRequest.group({"region": "north"}))
    with pytest.raises(InvalidRequestError, match="do not occur"):
        samples.resolve(ForgetRequest.classes([7]))
    with pytest.raises(InvalidRequestError, match="boolean mask"):
        samples.resolve(ForgetRequest.group(lambda t: t["age"]))


def test_select_and_drop_keep_ids_aligned(samples):
    kept = samples.drop([102, 104])
    assert kept.ids.tolist() == [101, 103, 105]
    assert kept.y.tolist() == [0, 1, 2]
    assert kept.groups["sex"].tolist() == ["f", "f", "f"]
    chosen = samples.select([105, 101])
    assert chosen.ids.tolist() == [105, 101]
    assert chosen.X["age"].tolist() == [33, 25]


def test_array_input_gets_default_ids_and_names():
    s = Samples(np.zeros((3, 2)), y=[1, 2, 3])
    assert s.ids.tolist() == [0, 1, 2]
    assert s.feature_names == ["x0", "x1"]
    assert s.resolve(ForgetRequest.group({"x0": 0.0})) == (0, 1, 2)


def test_bad_samples_raise():
    with pytest.raises(DataValidationError, match="y has 2 entries"):
        Samples(np.zeros((3, 2)), y=[1, 2])
    with pytest.raises(DuplicateIdError):
        Samples(np.zeros((2, 2)), ids=[1, 1])
    with pytest.raises(DataValidationError, match="2-dimensional"):
        Samples(np.zeros((2, 2, 2)))
    with pytest.raises(DataValidationError, match="not in the table"):
        Samples.from_frame(pd.DataFrame({"a": [1]}), target="b")
