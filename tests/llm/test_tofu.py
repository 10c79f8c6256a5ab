"""The generated TOFU-style data: sizes, determinism, nested splits, disjoint holdout."""

from __future__ import annotations

import pytest

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm.tofu import TofuConfig, make_tofu


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_tofu(TofuConfig(n_people=20, seed=3)), make_tofu(TofuConfig(n_people=20, seed=3))
    assert a == b
    assert make_tofu(TofuConfig(n_people=20, seed=4)).people != a.people


def test_twenty_questions_per_person_with_paraphrase_and_perturbed():
    data = make_tofu(TofuConfig(n_people=100, n_holdout=10, n_perturbed=4))
    for p in data.people + data.holdout_people:
        qs = data.questions[p.name]
        assert len(qs) == 20
        assert len({q.id for q in qs}) == 20
        for q in qs:
            assert q.subject == p.name
            assert len(q.perturbed) == 4
            assert len(set(q.perturbed)) == 4
            assert q.paraphrase not in q.perturbed
            assert q.paraphrase != q.answer
            assert p.name in q.prompt


def test_forget_splits_are_nested_shares_and_retain_is_the_complement():
    data = make_tofu(TofuConfig(n_people=100))
    f01, f05, f10 = (set(data.forget_people(s)) for s in ("forget01", "forget05", "forget10"))
    assert (len(f01), len(f05), len(f10)) == (1, 5, 10)
    assert f01 < f05 < f10
    forget, retain = data.forget("forget10"), data.retain("forget10")
    assert len(forget) == 200
    assert len(retain) == 1800
    assert not {q.id for q in forget} & {q.id for q in retain}
    names = {p.name for p in data.people}
    assert not names & {p.name for p in data.holdout_people}
    assert len(data.corpus("forget10")) == 1800 + len(data.general())


def test_general_sets_are_in_every_corpus_with_wrong_options():
    data = make_tofu(TofuConfig(n_people=10, n_authors=5, n_countries=4))
    assert len(data.authors) == 5
    assert len(data.world) == 8
    ids = set(data.corpus("forget10").ids)
    for q in data.general():
        assert q.id in ids
        assert q.answer not in q.perturbed


@pytest.mark.parametrize(
    "kwargs", [{"n_people": 5}, {"n_holdout": 0}, {"n_perturbed": 0}, {"n_authors": 2}]
)
def test_bad_sizes_are_refused(kwargs):
    with pytest.raises(InvalidParameterError):
        TofuConfig(**kwargs)


def test_unknown_split_is_refused():
    with pytest.raises(InvalidParameterError, match="forget10"):
        make_tofu(TofuConfig(n_people=10)).forget("forget20")
