"""E-mail messages (.eml): who wrote to whom, when, about what, and what the message says.

Read with the standard library's `email` package (the modern policy): the header lines a reader
looks at first ("From:", "To:", "Cc:", "Date:", "Subject:"), each as a line of its own, then the
body: its plain-text part, else its HTML part as a browser shows it (`html_text`), decoded by its
declared character set (an unknown one as UTF-8 with replacement characters). Attachments are
named on a line ("Attachments: report.pdf, figures.xlsx"), not read; a forwarded message is read
only where the sender's client quoted it in the body (one attached is named by its subject). The
title is the subject. A message without any text is refused by the caller; one past `max_chars`,
of more than `PARTS_MOST` MIME parts (counted before it is parsed), or with a header field over
`HEADER_CHARS_MOST` characters (checked before any is parsed) is refused in one line.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import re
from typing import Callable

from assistant.ingest.package import Unreadable

__all__ = ["Unreadable", "eml_text"]

HEADERS = ("From", "To", "Cc", "Date", "Subject")


# The most MIME parts a message is read with (a part's "Content-Type:" lines counted before parsing):
# the standard library's parser takes about 0.7 s a thousand, and 1 MB of empty parts took 14 s.
PARTS_MOST = 1_000
# The longest header field read (its raw value, folded lines and all): the standard library's parser
# takes memory growing with the square of a field's encoded words (10,000 "=?utf-8?q?a?=" in a
# 140 KB subject took 1.4 GB, 100,000 in 1.4 MB the whole machine's); 32 KiB of them take about 60 MB.
# A long "To:" of about 750 addresses fits.
HEADER_CHARS_MOST = 32 * 1024
_PART_HEADER = re.compile(rb"(?im)^content-type[ \t]*:")


def eml_text(data: bytes, html_text: Callable[[str], str], max_chars: int | None = None) -> tuple[str, str]:
    """A message's header lines and body as text, and its subject ("" when none)."""
    if sum(1 for _ in itertools.islice(_PART_HEADER.finditer(data), PARTS_MOST + 1)) > PARTS_MOST:
        raise Unreadable(f"more than {PARTS_MOST:,} MIME parts (no mail client writes so many); not read")
    try:
        # the lengths are read from a parse with the legacy policy, in linear time: the modern parser
        # reads each part's Content-Type while it parses (196 KB of encoded words there took 1.4 GB)
        for part in email.message_from_bytes(data, policy=email.policy.compat32).walk():
            if long := next((name for name, value in part.raw_items() if len(value) > HEADER_CHARS_MOST), None):
                raise Unreadable(f"a header field ({' '.join(str(long).split())[:40]}) over {HEADER_CHARS_MOST // 1024} KiB "
                                 "(no mail client writes one); not read")
        message = email.message_from_bytes(data, policy=email.policy.default)
        lines = [f"{name}: {' '.join(str(value).split())}" for name in HEADERS if (value := message.get(name))]
        body = message.get_body(preferencelist=("plain", "html"))
        text = _content(body) if body is not None else ""
        if body is not None and body.get_content_type() == "text/html":
            text = html_text(text)
        attached = [name for part in message.iter_attachments() if (name := _attachment_name(part))]
        subject = " ".join(str(message.get("Subject", "")).split())
    except Unreadable:
        raise
    except Exception as err:  # noqa: BLE001 - a message no client writes: one line, never a traceback
        reason = (str(err).splitlines() or [""])[0][:200] or type(err).__name__
        raise Unreadable(f"not a readable e-mail message (.eml), damaged ({reason})") from None
    if attached:
        lines.append("Attachments: " + ", ".join(" ".join(name.split()) for name in attached))
    parts = ["\n".join(lines), text.strip()] if lines else [text.strip()]
    out = "\n\n".join(part for part in parts if part)
    if max_chars is not None and len(out) > max_chars:
        raise Unreadable(f"more text than the size limit allows (over {max_chars:,} characters; "
                         "ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")
    return out, subject


def _attachment_name(part) -> str:
    """An attachment as the "Attachments:" line names it: its file name, or a message forwarded as
    an attachment (which has none, and had gone unmentioned) by its subject."""
    if name := part.get_filename():
        return name
    if part.get_content_type() == "message/rfc822":
        inner = part.get_content()
        subject = " ".join(str(inner.get("Subject", "")).split()) if hasattr(inner, "get") else ""
        return f"a forwarded message ({subject})" if subject else "a forwarded message"
    return ""


def _content(part) -> str:
    """A text part's content, decoded by its declared character set (an unknown one as UTF-8)."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")
