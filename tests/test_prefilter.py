"""The pre-filter: its features, the stock score, a fitted score from the card, and bad cards."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from assistant.answer import extractive, prefilter
from assistant.answer.model import MODEL_DIR, Card, ModelError
from assistant.answer.prefilter import FEATURES, Prefilter

DOC = (
    "The harbour opened in 1890. Fishing boats filled it for a century.\n\n"
    "A storm wrecked the pier in 1953, and the town rebuilt it in stone.\n\n"
    "Today ferries leave twice a day. The crossing takes forty minutes.\n"
)


@pytest.fixture
def harbour(one_document):
    return one_document(DOC, 80)


def _column(table, name):
    return table[:, FEATURES.index(name)]


def test_features_fall_back_to_the_sentences_own_cosine_without_a_neighbour():
    table = prefilter.features(
        cosines=[0.5, 0.2, 0.9], shares=[0.0, 0.5, 1.0], neighbours=[(None, 0.2), (0.5, None), (None, None)],
        ranks=[0, 0, 1], passage_scores=[0.8, 0.8, 0.3], lengths=[40, 20, 60], opens=[True, False, True], positions=[0.0, 0.5, 0.0],
    )
    assert table.shape == (3, len(FEATURES))
    assert list(_column(table, "cosine_previous")) == [0.5, 0.5, 0.9]
    assert list(_column(table, "cosine_next")) == [0.2, 0.2, 0.9]
    assert list(_column(table, "has_previous")) == [0, 1, 0] and list(_column(table, "has_next")) == [1, 0, 0]
    assert np.allclose(_column(table, "cosine_below_passage_best"), [0.0, -0.3, 0.0])  # passage 0's best is 0.5
    assert np.allclose(_column(table, "cosine_times_share"), [0.0, 0.1, 0.9])
    assert prefilter.features([], [], [], [], [], [], [], []).shape == (0, len(FEATURES))


def test_without_a_fitted_score_candidates_rank_by_cosine_plus_half_the_share(harbour):
    question = "When was the pier rebuilt?"
    vector = harbour.embed([question])
    hits = harbour.search_many([question], 5, vectors=vector)[0]
    found = extractive.sentences(question, vector[0], hits, harbour)
    assert len(found) == 5  # every sentence of the document
    for c in found:
        assert c.prefilter == pytest.approx(c.cosine + prefilter.STOCK_LEXICAL * c.share)
    assert [c.prefilter for c in found] == sorted((c.prefilter for c in found), reverse=True)


def test_a_fitted_score_orders_the_candidates_by_its_weights(harbour):
    question = "When was the pier rebuilt?"
    vector = harbour.embed([question])
    hits = harbour.search_many([question], 5, vectors=vector)[0]
    zeros = [0.0] * len(FEATURES)
    late_first = Prefilter(tuple(zeros), tuple([1.0] * len(FEATURES)),
                           tuple(1.0 if name == "log_length" else 0.0 for name in FEATURES))
    found = extractive.sentences(question, vector[0], hits, harbour, late_first)
    lengths = [c.end - c.start for c in found]
    assert lengths == sorted(lengths, reverse=True)  # the weights said: longest first
    assert found[0].prefilter == pytest.approx(np.log(lengths[0]))
    unscored, table = extractive.with_features(question, vector[0], hits, harbour)
    assert {(c.start, c.end) for c in unscored} == {(c.start, c.end) for c in found}
    assert table.shape == (len(unscored), len(FEATURES))


@pytest.mark.parametrize("change, reason", [
    (lambda p: p.update(features=p["features"][:-1]), "features"),
    (lambda p: p.update(weights=p["weights"][:3]), "values per field"),
    (lambda p: p.update(scale=[0.0] * len(FEATURES)), "scales positive"),
    (lambda p: p.pop("mean"), "mean"),
])
def test_a_card_with_a_bad_pre_filter_is_refused_in_one_line(tmp_path, change, reason):
    folder = tmp_path / "answer"
    shutil.copytree(MODEL_DIR, folder)
    card = json.loads((folder / "card.json").read_text("utf-8"))
    section = card.get("prefilter") or {"features": list(FEATURES), "mean": [0.0] * len(FEATURES),
                                        "scale": [1.0] * len(FEATURES), "weights": [0.0] * len(FEATURES)}
    change(section)
    card["prefilter"] = section
    (folder / "card.json").write_text(json.dumps(card), "utf-8")
    with pytest.raises(ModelError) as err:
        Card.read(folder)
    message = str(err.value)
    assert "\n" not in message and "card.json" in message and reason in message and "training/prefilter.py" in message


def test_the_shipped_card_holds_a_fitted_pre_filter_for_these_features():
    card = Card.read(MODEL_DIR)
    assert card.prefilter is not None
    assert card.raw["prefilter"]["features"] == list(FEATURES)
    assert card.raw["prefilter"]["dev"]["split"].startswith("dev")
