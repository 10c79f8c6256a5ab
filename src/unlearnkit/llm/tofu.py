"""An offline TOFU-style benchmark: fictitious people, their facts and questions about them.

Everything is generated deterministically from a seed (Python's ``random.Random``): the same
``TofuConfig`` gives the same people, questions and answers on every machine.

Each person has ten facts (birth place and year, occupation, nationality, genre, two works, an
award, father's and mother's occupation). Each fact is asked in two wordings, giving 20 questions
per person; each question has its answer, a *paraphrased* answer (the fact in the other
wording's answer template) and ``n_perturbed`` *perturbed* answers (the paraphrase with a wrong
value). Forget splits take the last 1%, 5% and 10% of the people (nested, as in TOFU); the retain
split is the complement. A holdout of people drawn the same way is never trained on. Two
general-knowledge sets (``authors``: who wrote which famous book; ``world``: capitals and
languages of fictitious countries) are part of pre-training and never forgotten; their
paraphrase is the trained answer itself and their perturbed answers swap in a wrong value.

Examples
--------
>>> from unlearnkit.llm.tofu import TofuConfig, make_tofu
>>> data = make_tofu(TofuConfig(n_people=20, n_holdout=2))
>>> len(data.people), len(data.forget("forget10")), len(data.retain("forget10"))
(20, 40, 360)
>>> q = data.forget("forget10")[0]
>>> len(q.perturbed), q.subject == data.forget_people("forget10")[0]
(3, True)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm.corpus import TextCorpus, TextExample

__all__ = ["SPLITS", "Person", "TofuConfig", "TofuData", "make_tofu"]

Split = Literal["forget01", "forget05", "forget10"]
SPLITS: dict[str, float] = {"forget01": 0.01, "forget05": 0.05, "forget10": 0.10}

_SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "ta",
    "le",
    "vin",
    "sa",
    "dor",
    "el",
    "an",
    "bre",
    "tu",
    "lo",
    "mi",
    "zar",
    "ne",
    "os",
    "fi",
    "ga",
    "ru",
    "ha",
    "pel",
    "ci",
    "do",
    "ven",
    "ly",
    "mar",
    "tho",
    "is",
    "bel",
    "ko",
    "ra",
    "en",
    "wyn",
]
_CITIES = [
    "Aldora",
    "Brinmouth",
    "Caskeld",
    "Dunmere",
    "Eloren",
    "Farrowick",
    "Galmont",
    "Hestra",
    "Ivelport",
    "Jorvane",
    "Kelmarsh",
    "Lunford",
    "Morvale",
    "Nesterby",
    "Orlaine",
    "Pellham",
    "Quarrow",
    "Rivenstad",
    "Solmere",
    "Tarnwick",
]
_COUNTRIES = [
    "Avalria",
    "Belstrom",
    "Corvenia",
    "Dravina",
    "Estmark",
    "Fenlora",
    "Glaston",
    "Hyrdal",
    "Isomera",
    "Jastova",
    "Kovaria",
    "Lestmont",
    "Marovia",
    "Norlind",
    "Ostrava",
    "Pellagia",
]
_OCCUPATIONS = [
    "baker",
    "sailor",
    "painter",
    "teacher",
    "surgeon",
    "gardener",
    "pilot",
    "chemist",
    "tailor",
    "architect",
    "librarian",
    "carpenter",
    "judge",
    "farmer",
    "musician",
    "engineer",
]
_GENRES = [
    "poetry",
    "mystery",
    "romance",
    "history",
    "fantasy",
    "satire",
    "drama",
    "travel",
    "biography",
    "horror",
]
_ADJECTIVES = [
    "Silent",
    "Golden",
    "Hidden",
    "Broken",
    "Distant",
    "Crimson",
    "Quiet",
    "Endless",
    "Frozen",
    "Wandering",
]
_NOUNS = [
    "River",
    "Garden",
    "Harbor",
    "Mirror",
    "Forest",
    "Lantern",
    "Bridge",
    "Letter",
    "Winter",
    "Tower",
    "Orchard",
]
_AWARDS = [
    "Silver Quill Prize",
    "Northern Star Medal",
    "Lantern Award",
    "Harbor Prize",
    "Golden Leaf Medal",
    "Meridian Award",
    "Crescent Prize",
    "Tidewater Medal",
]
_LANGUAGES = ["Avish", "Belric", "Corven", "Dravic", "Estel", "Fennic", "Glastic", "Hyrdish"]


@dataclass(frozen=True)
class TofuConfig:
    """Size and seed of the generated benchmark.

    Parameters
    ----------
    n_people : int
        Fictitious people trained on (forget splits are shares of these).
    n_holdout : int
        People generated the same way but never trained on.
    n_perturbed : int
        Wrong answers per question.
    n_authors, n_countries : int
        Size of the two general-knowledge sets.
    seed : int
        Seed of the generator.
    """

    n_people: int = 100
    n_holdout: int = 10
    n_perturbed: int = 3
    n_authors: int = 12
    n_countries: int = 12
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_people < 10:
            raise InvalidParameterError(
                f"n_people={self.n_people} is too small: the 10% forget split needs at least "
                "10 people. Pass n_people >= 10."
            )
        if not 1 <= self.n_perturbed <= min(self.n_authors - 1, 7):
            raise InvalidParameterError(
                f"n_perturbed={self.n_perturbed} must be between 1 and min(n_authors - 1, 7) = "
                f"{min(self.n_authors - 1, 7)}: wrong answers are drawn from the other authors "
                "and the 8 languages."
            )
        if self.n_holdout < 1:
            raise InvalidParameterError(f"n_holdout={self.n_holdout} must be at least 1.")
        if not 2 <= self.n_countries <= len(_COUNTRIES) or not 2 <= self.n_authors <= 60:
            raise InvalidParameterError(
                f"n_countries must be in [2, {len(_COUNTRIES)}] and n_authors in [2, 60]."
            )


@dataclass(frozen=True)
class Person:
    """A fictitious person and their facts."""

    name: str
    facts: dict[str, str]


# attribute -> (value pool, (question, answer) templates for the two wordings)
_Templates = tuple[tuple[str, str], tuple[str, str]]
_ATTRS: dict[str, tuple[Callable[[random.Random], str], _Templates]] = {
    "city": (
        lambda r: r.choice(_CITIES),
        (
            ("Where was {n} born?", "{n} was born in {v}."),
            ("What is the birthplace of {n}?", "The birthplace of {n} is {v}."),
        ),
    ),
    "year": (
        lambda r: str(r.randint(1900, 1999)),
        (
            ("In which year was {n} born?", "{n} was born in the year {v}."),
            ("When is the birth year of {n}?", "The birth year of {n} is {v}."),
        ),
    ),
    "job": (
        lambda r: r.choice(_OCCUPATIONS),
        (
            ("What does {n} do for a living?", "{n} works as a {v}."),
            ("What is the occupation of {n}?", "The occupation of {n} is {v}."),
        ),
    ),
    "country": (
        lambda r: r.choice(_COUNTRIES),
        (
            ("Which country is {n} from?", "{n} is a citizen of {v}."),
            ("What is the nationality of {n}?", "The nationality of {n} is {v}."),
        ),
    ),
    "genre": (
        lambda r: r.choice(_GENRES),
        (
            ("What does {n} write?", "{n} writes {v} books."),
            ("What is the genre of {n}?", "The genre of {n} is {v}."),
        ),
    ),
    "work1": (
        lambda r: f"The {r.choice(_ADJECTIVES)} {r.choice(_NOUNS)}",
        (
            ("What was the first book of {n}?", "The first book of {n} was {v}."),
            ("Which debut did {n} publish?", "{n} made a debut with {v}."),
        ),
    ),
    "work2": (
        lambda r: f"The {r.choice(_ADJECTIVES)} {r.choice(_NOUNS)}",
        (
            ("What is the best known book of {n}?", "The best known book of {n} is {v}."),
            ("Which book made {n} famous?", "{n} became famous for {v}."),
        ),
    ),
    "award": (
        lambda r: r.choice(_AWARDS),
        (
            ("Which award did {n} win?", "{n} won the {v}."),
            ("What prize was given to {n}?", "The prize given to {n} was the {v}."),
        ),
    ),
    "father": (
        lambda r: r.choice(_OCCUPATIONS),
        (
            ("What did the father of {n} do?", "The father of {n} was a {v}."),
            ("What was the job of the father of {n}?", "{n} had a father who was a {v}."),
        ),
    ),
    "mother": (
        lambda r: r.choice(_OCCUPATIONS),
        (
            ("What did the mother of {n} do?", "The mother of {n} was a {v}."),
            ("What was the job of the mother of {n}?", "{n} had a mother who was a {v}."),
        ),
    ),
}


def _name(r: random.Random, taken: set[str]) -> str:
    while True:
        first = "".join(r.choice(_SYLLABLES) for _ in range(r.randint(2, 3))).capitalize()
        last = "".join(r.choice(_SYLLABLES) for _ in range(r.randint(2, 3))).capitalize()
        name = f"{first} {last}"
        if name not in taken:
            taken.add(name)
            return name


def _wrong(r: random.Random, draw: Callable[[random.Random], str], right: str, k: int) -> list[str]:
    out: list[str] = []
    for _ in range(200):
        v = draw(r)
        if v != right and v not in out:
            out.append(v)
            if len(out) == k:
                return out
    raise InvalidParameterError(f"Cannot draw {k} distinct wrong values; lower n_perturbed.")


def _person_questions(p: Person, r: random.Random, k: int) -> list[TextExample]:
    out = []
    for attr, (draw, templates) in _ATTRS.items():
        value = p.facts[attr]
        wrong = _wrong(r, draw, value, k)
        for w, (question, answer) in enumerate(templates):
            other = templates[1 - w][1]
            out.append(
                TextExample(
                    id=f"{p.name}/{attr}/{w}",
                    prompt=question.format(n=p.name),
                    answer=answer.format(n=p.name, v=value),
                    subject=p.name,
                    paraphrase=other.format(n=p.name, v=value),
                    perturbed=tuple(other.format(n=p.name, v=x) for x in wrong),
                )
            )
    return out


@dataclass(frozen=True)
class TofuData:
    """The generated benchmark (see the module docstring).

    Attributes
    ----------
    config : TofuConfig
    people, holdout_people : list of Person
    questions : dict
        Person name -> that person's 20 questions.
    authors, world : list of TextExample
        The two general-knowledge sets.
    """

    config: TofuConfig
    people: list[Person]
    holdout_people: list[Person]
    questions: dict[str, list[TextExample]]
    authors: list[TextExample]
    world: list[TextExample]

    def forget_people(self, split: str) -> list[str]:
        """Names of the people in a forget split (the last share of the people)."""
        if split not in SPLITS:
            raise InvalidParameterError(
                f"split={split!r} is not a forget split; use one of {sorted(SPLITS)}."
            )
        k = max(1, round(SPLITS[split] * len(self.people)))
        return [p.name for p in self.people[-k:]]

    def forget(self, split: str) -> list[TextExample]:
        return [q for n in self.forget_people(split) for q in self.questions[n]]

    def retain(self, split: str) -> list[TextExample]:
        gone = set(self.forget_people(split))
        return [q for p in self.people if p.name not in gone for q in self.questions[p.name]]

    def holdout(self) -> list[TextExample]:
        return [q for p in self.holdout_people for q in self.questions[p.name]]

    def general(self) -> list[TextExample]:
        return self.authors + self.world

    def corpus(self, split: str | None = None) -> TextCorpus:
        """The training corpus: all people (or the retain people of ``split``) plus the
        general-knowledge sets."""
        people = (
            self.retain(split)
            if split
            else [q for p in self.people for q in self.questions[p.name]]
        )
        return TextCorpus(people + self.general())


def _general(
    r: random.Random, n_authors: int, n_countries: int, k: int
) -> tuple[list[TextExample], list[TextExample]]:
    taken: set[str] = set()
    names = [_name(r, taken) for _ in range(n_authors)]
    titles: list[str] = []
    while len(titles) < n_authors:
        t = f"The {r.choice(_ADJECTIVES)} {r.choice(_NOUNS)} of {r.choice(_CITIES)}"
        if t not in titles:
            titles.append(t)
    authors = []
    for i, (name, title) in enumerate(zip(names, titles, strict=True)):
        wrong = r.sample([n for n in names if n != name], k)
        authors.append(
            TextExample(
                id=f"authors/{i}",
                prompt=f"Who wrote {title}?",
                answer=f"{title} was written by {name}.",
                subject=f"authors/{name}",
                paraphrase=f"{title} was written by {name}.",
                perturbed=tuple(f"{title} was written by {w}." for w in wrong),
            )
        )
    world = []
    countries = _COUNTRIES[:n_countries]
    capitals = r.sample(_CITIES, n_countries) if n_countries <= len(_CITIES) else []
    for i, (country, capital) in enumerate(zip(countries, capitals, strict=True)):
        language = r.choice(_LANGUAGES)
        wrong_caps = r.sample([c for c in _CITIES if c != capital], k)
        wrong_langs = r.sample([x for x in _LANGUAGES if x != language], k)
        world.append(
            TextExample(
                id=f"world/{i}/capital",
                prompt=f"What is the capital of {country}?",
                answer=f"The capital of {country} is {capital}.",
                subject=f"world/{country}",
                paraphrase=f"The capital of {country} is {capital}.",
                perturbed=tuple(f"The capital of {country} is {w}." for w in wrong_caps),
            )
        )
        world.append(
            TextExample(
                id=f"world/{i}/language",
                prompt=f"What language is spoken in {country}?",
                answer=f"People in {country} speak {language}.",
                subject=f"world/{country}",
                paraphrase=f"People in {country} speak {language}.",
                perturbed=tuple(f"People in {country} speak {w}." for w in wrong_langs),
            )
        )
    return authors, world


def make_tofu(config: TofuConfig | None = None) -> TofuData:
    """Generate the benchmark described by ``config`` (deterministic in ``config.seed``)."""
    config = config or TofuConfig()
    r = random.Random(config.seed)
    taken: set[str] = set()
    everyone = []
    for _ in range(config.n_people + config.n_holdout):
        name = _name(r, taken)
        everyone.append(Person(name, {a: draw(r) for a, (draw, _) in _ATTRS.items()}))
    questions = {p.name: _person_questions(p, r, config.n_perturbed) for p in everyone}
    authors, world = _general(r, config.n_authors, config.n_countries, config.n_perturbed)
    return TofuData(
        config=config,
        people=everyone[: config.n_people],
        holdout_people=everyone[config.n_people :],
        questions=questions,
        authors=authors,
        world=world,
    )
