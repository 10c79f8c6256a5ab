from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from unlearnkit.errors import DuplicateIdError, InvalidRequestError
from unlearnkit.requests import ForgetRequest, Reason, as_request

ids_strategy = st.one_of(
    st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=30, unique=True),
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=30, unique=True),
)


@given(ids_strategy, st.sampled_from(list(Reason)), st.one_of(st.none(), st.text(max_size=10)))
def test_items_round_trip_through_dict(ids, reason, subject):
    request = ForgetRequest.items(ids, reason=reason, subject=subject)
    assert request.ids == tuple(ids)
    again = ForgetRequest.from_dict(request.to_dict())
    assert again == request


@given(st.lists(st.integers(0, 20), min_size=2, max_size=30))
def test_duplicate_ids_are_rejected_exactly_when_present(ids):
    if len(set(ids)) == len(ids):
        assert ForgetRequest.items(ids).ids == tuple(ids)
    else:
        with pytest.raises(DuplicateIdError) as info:
            ForgetRequest.items(ids)
        assert set(info.value.ids) == {i for i in ids if ids.count(i) > 1}


@given(st.dictionaries(st.integers(0, 1000), st.integers(0, 5), min_size=1, max_size=20))
def test_relabel_round_trip(mapping):
    request = ForgetRequest.relabel(mapping)
    assert dict(request.new_labels) == mapping
    assert request.reason is Reason.POISON
    assert ForgetRequest.from_dict(request.to_dict()) == request


def test_numpy_ids_become_python_scalars():
    request = ForgetRequest.items(np.array([3, 4], dtype=np.int32))
    assert request.ids == (3, 4)
    assert all(type(i) is int for i in request.ids)
    assert ForgetRequest.items([2.0]).ids == (2,)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ForgetRequest.items([]),
        lambda: ForgetRequest.items(5),
        lambda: ForgetRequest.items("abc"),
        lambda: ForgetRequest.items([1.5]),
        lambda: ForgetRequest.items([None]),
        lambda: ForgetRequest.items([True]),
        lambda: ForgetRequest.classes([]),
        lambda: ForgetRequest.classes([1, 1]),
        lambda: ForgetRequest.features([]),
        lambda: ForgetRequest.relabel({}),
        lambda: ForgetRequest.relabel([1, 2]),
        lambda: ForgetRequest.group({}),
        lambda: ForgetRequest.group(3),
        lambda: ForgetRequest.items([1], reason="boredom"),
        lambda: ForgetRequest(kind="nothing"),
        lambda: ForgetRequest.from_dict({"ids": [1]}),
        lambda: ForgetRequest.from_dict({"kind": "everything"}),
    ],
)
def test_malformed_requests_raise_invalid_request(build):
    with pytest.raises(InvalidRequestError) as info:
        build()
    assert str(info.value)  # every message says what is wrong


def test_group_and_subject_constructors():
    request = ForgetRequest.of_subject(42)
    assert request.kind == "group"
    assert request.where == {"subject": 42}
    assert request.subject == "42"
    callable_group = ForgetRequest.group(lambda t: t["age"] > 60, reason="bias")
    assert callable_group.reason is Reason.BIAS
    with pytest.raises(InvalidRequestError, match="callable"):
        callable_group.to_dict()


def test_request_ids_are_unique_and_can_be_given():
    assert ForgetRequest.items([1]).request_id != ForgetRequest.items([1]).request_id
    assert ForgetRequest.items([1], request_id="r-1").request_id == "r-1"


def test_as_request_accepts_lists_and_requests():
    request = ForgetRequest.classes(["cat"])
    assert as_request(request) is request
    assert as_request([7, 8]).ids == (7, 8)
