"""E-mail messages (.eml): header lines and body as text, attachments named, one-line errors."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from assistant.ingest.documents import LoadError, load


def _message(path: Path) -> Path:
    message = EmailMessage()
    message["From"] = "Ana Ruiz <ana@example.org>"
    message["To"] = "Team <team@example.org>"
    message["Subject"] = "Budget review moved"
    message["Date"] = "Tue, 03 Dec 2024 09:12:00 +0100"
    message.set_content("Hi all,\n\nThe budget review moves to Thursday 5 December at 14:00 in room B2.\n\nAna")
    message.add_alternative("<p>Hi all,</p><p>The review moves to <b>Thursday</b>.</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4 not read", maintype="application", subtype="pdf", filename="q3 figures.pdf")
    path.write_bytes(bytes(message))
    return path


def test_a_message_reads_as_its_header_lines_and_its_plain_text(tmp_path):
    document = load(_message(tmp_path / "review.eml"))
    assert document.title == "Budget review moved"
    assert document.text == (
        "From: Ana Ruiz <ana@example.org>\nTo: Team <team@example.org>\nDate: Tue, 03 Dec 2024 09:12:00 +0100\n"
        "Subject: Budget review moved\nAttachments: q3 figures.pdf\n\n"
        "Hi all,\n\nThe budget review moves to Thursday 5 December at 14:00 in room B2.\n\nAna")
    # an HTML-only message reads as a browser shows it; an unknown character set as UTF-8
    html = EmailMessage()
    html["Subject"] = "Lunch"
    html.set_content("<html><body><h2>Plan</h2><p>Lunch is at <i>noon</i>.</p><ul><li>soup</li></ul><script>x()</script></body></html>",
                     subtype="html")
    (tmp_path / "lunch.eml").write_bytes(bytes(html))
    # (its heading and list without the Markdown marks a web page gets: a message is not read as Markdown)
    assert load(tmp_path / "lunch.eml").text == "Subject: Lunch\n\nPlan\n\nLunch is at noon.\n\nsoup"
    (tmp_path / "odd.eml").write_bytes(b"Subject: Odd\nContent-Type: text/plain; charset=x-unknown-42\n\nCaf\xc3\xa9 at ten.\n")
    assert load(tmp_path / "odd.eml").text == "Subject: Odd\n\nCafé at ten."
    # a message forwarded as an attachment has no file name: it is named by its subject (it had gone unmentioned)
    forwarded = EmailMessage()
    forwarded["Subject"] = "Fwd: budget"
    forwarded.set_content("See the message attached.")
    original = EmailMessage()
    original["Subject"] = "Budget 2025"
    original.set_content("The budget is 5,000 euros.")
    forwarded.add_attachment(original)
    (tmp_path / "fwd.eml").write_bytes(bytes(forwarded))
    assert load(tmp_path / "fwd.eml").text == (
        "Subject: Fwd: budget\nAttachments: a forwarded message (Budget 2025)\n\nSee the message attached.")


def test_a_message_that_cannot_be_read_is_one_line(tmp_path):
    (tmp_path / "binary.eml").write_bytes(b"\x00\x01\x02 not a message")
    (tmp_path / "empty.eml").write_bytes(b"Subject: \n\n   \n")
    for name, reason in (("binary.eml", "binary file (contains NUL bytes), not an e-mail message"), ("empty.eml", "no text")):
        with pytest.raises(LoadError) as err:
            load(tmp_path / name)
        assert str(err.value).startswith(f"{tmp_path / name}: {reason}") and "\n" not in str(err.value)
    with pytest.raises(LoadError, match="more text than the size limit allows"):
        load(_message(tmp_path / "review.eml"), max_chars=50)
    # thousands of (nested) parts: refused before the parser spends seconds on them (1 MB of empty parts took 14 s)
    from assistant.ingest.mail import PARTS_MOST

    head, part = b'Content-Type: multipart/mixed; boundary="b"\n\n', b'--b\nContent-Type: multipart/mixed; boundary="b"\n\n'
    (tmp_path / "parts.eml").write_bytes(head + part * PARTS_MOST + b"Budget: 5,000 euros.")
    with pytest.raises(LoadError, match=f"more than {PARTS_MOST:,} MIME parts"):
        load(tmp_path / "parts.eml")
    (tmp_path / "parts.eml").write_bytes(head + part * 3 + b"Budget: 5,000 euros.")  # a few, read as before
    with pytest.raises(LoadError, match="no text"):
        load(tmp_path / "parts.eml")


def test_a_header_field_too_long_to_parse_is_refused_before_it_is_parsed(tmp_path):
    """A subject of 100,000 encoded words (1.4 MB) had taken the parser past 23 GB; a long
    recipient list of a real message is still read."""
    from assistant.ingest.mail import HEADER_CHARS_MOST

    (tmp_path / "subject.eml").write_text("From: a@b.c\nSubject: " + "=?utf-8?q?a?= " * 100_000 + "\n\nBudget: 5,000 euros.\n", "utf-8")
    with pytest.raises(LoadError, match=f"a header field \\(Subject\\) over {HEADER_CHARS_MOST // 1024} KiB"):
        load(tmp_path / "subject.eml")
    # in a part too
    (tmp_path / "part.eml").write_text('Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n'
                                       "Content-Description: " + "x " * HEADER_CHARS_MOST + "\n\nBudget.\n--b--\n", "utf-8")
    with pytest.raises(LoadError, match="a header field \\(Content-Description\\)"):
        load(tmp_path / "part.eml")
    # a Content-Type, which the parser reads while it parses (before any check on what it parsed)
    import resource

    (tmp_path / "type.eml").write_text('From: a@b.c\nContent-Type: text/plain; name="' + "=?utf-8?q?a?= " * 14_000 + '"\n\nHello.\n',
                                       "utf-8")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LoadError, match="a header field \\(Content-Type\\)"):
        load(tmp_path / "type.eml")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: it had taken 1.4 GB
    many = ", ".join(f"user{i} <u{i}@example.com>" for i in range(600))
    (tmp_path / "team.eml").write_text(f"From: a@b.c\nTo: {many}\nSubject: Budget\n\nBudget: 5,000 euros.\n", "utf-8")
    text = load(tmp_path / "team.eml").text
    assert "u599@example.com" in text and text.endswith("Budget: 5,000 euros.")


def test_a_message_is_indexed_and_its_body_retrieved(tmp_path, settings, embedder):
    import assistant

    corpus = tmp_path / "mail"
    corpus.mkdir()
    path = _message(corpus / "review.eml")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    assert [Path(s).name for s in bot.add([corpus]).added] == ["review.eml"]
    text = load(path).text
    hits = bot.retrieve("When is the budget review?", k=2)
    assert hits and all(text[hit.start:hit.end] == hit.text for hit in hits) and "Thursday 5 December" in hits[0].text
