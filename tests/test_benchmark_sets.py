"""A question set on a folder of documents: every question names a document there, and where the
set gives evidence spans, every answerable question has them and each is verbatim text of its
document at its offsets (as the loader reads it). (Until 2026-12-07 the table sets gave 52 of their
124 spans 2 to 17 characters off; citation figures count overlap, and none of theirs changed when
the spans were corrected. manuals_dev gives no spans.)"""

from __future__ import annotations

import json

import pytest

from benchmarks.answers import FOLDER_SETS, SPLITS


@pytest.mark.parametrize("name", sorted(FOLDER_SETS))
def test_each_question_names_a_document_and_each_evidence_span_is_its_text_at_its_offsets(name):
    from assistant.ingest.documents import load

    questions, folder = FOLDER_SETS[name]
    assert SPLITS[name] in ("dev", "test")
    texts = {path.stem: load(path).text for path in sorted(folder.iterdir())}
    rows = [json.loads(line) for line in questions.read_text("utf-8").splitlines() if line.strip()]
    assert rows and len({row["id"] for row in rows}) == len(rows)
    with_spans = any(row.get("evidence") for row in rows)
    for row in rows:
        assert row.get("doc", next(iter(texts))) in texts, row["id"]
        if with_spans:
            assert row["answerable"] == bool(row.get("evidence")), row["id"]
        for span in row.get("evidence") or ():
            assert texts[span["doc_id"]][span["start"]:span["end"]] == span["text"], row["id"]
