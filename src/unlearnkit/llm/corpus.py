"""Training corpora of text examples, and forget requests resolved against them.

A :class:`TextExample` is a prompt and the text the model learned to produce after it (a
question and its answer, or an empty prompt and a whole document), tagged with the subject it
is about. A :class:`TextCorpus` is the set of examples a model was trained on; a forget request
names example ids (``ForgetRequest.items``) or a subject (``ForgetRequest.group({"subject":
...})``) and :meth:`TextCorpus.split` turns it into the forget and retain examples.

Examples
--------
>>> from unlearnkit.llm.corpus import TextCorpus, TextExample
>>> from unlearnkit.requests import ForgetRequest
>>> corpus = TextCorpus([
...     TextExample("q1", "Where was Ada born?", "Ada was born in Rome.", subject="Ada"),
...     TextExample("q2", "What does Ben do?", "Ben is a baker.", subject="Ben"),
... ])
>>> forget, retain = corpus.split(ForgetRequest.group({"subject": "Ada"}))
>>> [e.id for e in forget], [e.id for e in retain]
(['q1'], ['q2'])
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from unlearnkit.errors import DataValidationError, DuplicateIdError, InvalidRequestError, preview
from unlearnkit.llm.errors import ForgetSetNotInCorpusError
from unlearnkit.requests import ForgetRequest, as_request

__all__ = ["TextCorpus", "TextExample", "read_examples"]


@dataclass(frozen=True)
class TextExample:
    """One training example: ``prompt`` followed by ``answer``.

    Parameters
    ----------
    id : str or int
        Stable handle of the example (the handle for forgetting).
    prompt : str
        Conditioning text (a question); empty for a plain document.
    answer : str
        The text the model is trained to produce; losses are taken over its tokens only.
    subject : str, optional
        Who or what the example is about (used by subject requests).
    paraphrase : str, optional
        The same answer in other words (for the truth ratio).
    perturbed : tuple of str
        Wrong answers in the paraphrase's wording (for the truth ratio and alternative targets).
    """

    id: Hashable
    prompt: str
    answer: str
    subject: str | None = None
    paraphrase: str | None = None
    perturbed: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["perturbed"] = list(self.perturbed)
        return out


class TextCorpus(Sequence[TextExample]):
    """The examples a model was trained on, addressable by id and by subject.

    Parameters
    ----------
    examples : iterable of TextExample
        Ids must be unique.

    Examples
    --------
    >>> c = TextCorpus([TextExample(1, "", "Some document.", subject="x")])
    >>> len(c), c.subjects()
    (1, ['x'])
    """

    def __init__(self, examples: Iterable[TextExample]) -> None:
        self._examples = tuple(examples)
        for e in self._examples:
            if not isinstance(e, TextExample):
                raise DataValidationError(
                    f"TextCorpus takes TextExample objects, got {type(e).__name__}; wrap each "
                    "record as TextExample(id, prompt, answer, subject=...)."
                )
        self._index: dict[Hashable, int] = {}
        dupes = []
        for i, e in enumerate(self._examples):
            if e.id in self._index:
                dupes.append(e.id)
            self._index[e.id] = i
        if dupes:
            raise DuplicateIdError(dupes, where="the corpus")

    def __len__(self) -> int:
        return len(self._examples)

    def __getitem__(self, i: Any) -> Any:
        return self._examples[i]

    def __iter__(self) -> Iterator[TextExample]:
        return iter(self._examples)

    @property
    def ids(self) -> list[Hashable]:
        return [e.id for e in self._examples]

    def subjects(self) -> list[str]:
        """Distinct subject tags, sorted."""
        return sorted({e.subject for e in self._examples if e.subject is not None})

    def get(self, ids: Iterable[Hashable]) -> list[TextExample]:
        """The examples with ``ids`` (in that order); unknown ids raise."""
        ids = list(ids)
        missing = [i for i in ids if i not in self._index]
        if missing:
            raise ForgetSetNotInCorpusError(
                f"Example ids {preview(missing)} are not in the training corpus "
                f"({len(self)} examples, ids such as {preview(self.ids[:3])}). Name examples "
                "the model was trained on."
            )
        return [self._examples[self._index[i]] for i in ids]

    def without(self, ids: Iterable[Hashable]) -> TextCorpus:
        drop = set(ids)
        return TextCorpus(e for e in self._examples if e.id not in drop)

    def resolve(self, request: ForgetRequest | Iterable[Any]) -> list[TextExample]:
        """The examples a request names.

        ``items`` requests name example ids; ``group`` requests take ``{"subject": name}``
        (or a list of names). Anything that matches nothing in the corpus raises
        :class:`~unlearnkit.llm.errors.ForgetSetNotInCorpusError`.
        """
        req = as_request(request)
        if req.kind == "items":
            return self.get(req.ids)
        if req.kind == "group" and isinstance(req.where, dict) and set(req.where) == {"subject"}:
            wanted = req.where["subject"]
            names = (
                [wanted] if isinstance(wanted, str) or not isinstance(wanted, Iterable) else wanted
            )
            names = list(names)
            known = set(self.subjects())
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ForgetSetNotInCorpusError(
                    f"Subject(s) {preview(unknown)} do not appear in the training corpus; "
                    f"known subjects include {preview(sorted(known), 8)}."
                )
            return [e for e in self._examples if e.subject in set(names)]
        raise InvalidRequestError(
            f"A text corpus resolves 'items' requests (example ids) and 'group' requests of the "
            f"form {{'subject': NAME}}; got a {req.kind!r} request. Send one of those."
        )

    def split(
        self, request: ForgetRequest | Iterable[Any]
    ) -> tuple[list[TextExample], list[TextExample]]:
        """``(forget, retain)``: the examples named by ``request`` and all the others."""
        forget = self.resolve(request)
        drop = {e.id for e in forget}
        return forget, [e for e in self._examples if e.id not in drop]

    def to_jsonl(self, path: str | Path) -> Path:
        """Write one JSON object per example."""
        path = Path(path)
        path.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in self._examples))
        return path


def read_examples(path: str | Path) -> list[TextExample]:
    """Read examples from a JSONL file.

    Each line is an object with ``prompt``/``question`` and ``answer``, or just ``text`` (a
    document); ``id`` (default: the line number), ``subject``, ``paraphrase`` and
    ``perturbed`` are optional.
    """
    path = Path(path)
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"{path}:{n} is not valid JSON ({exc.msg}).") from None
        if not isinstance(rec, dict):
            raise DataValidationError(f"{path}:{n} must be a JSON object.")
        prompt: Any = rec.get("prompt", rec.get("question", ""))
        answer: Any = rec.get("answer")
        if "text" in rec and answer is None:
            prompt, answer = "", rec["text"]
        if not isinstance(answer, str) or not isinstance(prompt, str) or not answer:
            raise DataValidationError(
                f"{path}:{n} needs a non-empty 'answer' (with 'question' or 'prompt') or 'text'."
            )
        out.append(
            TextExample(
                id=rec.get("id", n),
                prompt=prompt,
                answer=answer,
                subject=rec.get("subject"),
                paraphrase=rec.get("paraphrase"),
                perturbed=tuple(rec.get("perturbed", ())),
            )
        )
    if not out:
        raise DataValidationError(f"{path} holds no examples.")
    return out
