"""Office Open XML packages (.docx, .pptx): a zip of XML parts, opened within bounds.

`open_package` refuses a file that is not a zip or unpacks past `UNPACKED_MOST` in all; `parse`
reads one part with lxml, entities never resolved; `parse_optional` reads a part the text can do
without (styles, properties, notes) as absent when it is missing, larger than its bound or
damaged; `relationships` gives a part's links to others; `declared_title` the title its
properties declare. Every failure is an `Unreadable` with a one-line reason (`damaged`).
"""

from __future__ import annotations

import io
import posixpath
import zipfile

MIB = 1 << 20
UNPACKED_MOST = 256 * MIB  # a 10 MiB package of its images unpacks to about as much; of zeros, to gigabytes
PART_MOST = 2 * MIB  # a part the text does not need: larger, it is read as absent
RELS_MOST = MIB


class Unreadable(Exception):
    """A package that cannot be read; `reason` is one line."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def open_package(data: bytes, unreadable: str, most: int = UNPACKED_MOST) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The package's zip and its members by name; `unreadable` is the reason given for a file that
    is not a zip at all, `most` the bound on what it unpacks to."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {info.filename: info for info in archive.infolist()}
    except Exception:  # noqa: BLE001 - a damaged zip raises many kinds (a "version needed" of 9.1: NotImplementedError)
        raise Unreadable(unreadable) from None
    unpacked = sum(info.file_size for info in members.values())
    if unpacked > most:
        archive.close()
        raise Unreadable(f"it unpacks to {unpacked / MIB:,.0f} MiB, more than {most / MIB:,.0f} MiB; not read")
    return archive, members


def parse(xml: bytes, renamed: dict[bytes, bytes] | None = None):
    """One part's XML (`renamed` rewrites namespace names first: Strict Open XML to the usual ones)."""
    from lxml import etree

    for old, new in (renamed or {}).items():
        xml = xml.replace(old, new)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    return etree.fromstring(xml, parser)


def parse_optional(archive, members, name: str, most: int = PART_MOST, renamed: dict[bytes, bytes] | None = None):
    """A part the text can do without, or None: absent, larger than `most` or damaged (a broken
    core.xml had refused a sound document)."""
    if name not in members or members[name].file_size > most:
        return None
    try:
        return parse(archive.read(name), renamed)
    except Exception:  # noqa: BLE001 - read as absent
        return None


def relationships_part(part: str) -> str:
    """The name of the part that holds `part`'s relationships (`""`: the package's)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def relationships(archive, members, part: str, renamed: dict[bytes, bytes] | None = None) -> list[tuple[str, str, str]]:
    """(id, type, target part name) of each link of `part` to another part of the package (`""`
    for the package itself); none when its relationships are missing or damaged."""
    folder = posixpath.dirname(part)
    rels = parse_optional(archive, members, relationships_part(part), RELS_MOST, renamed)
    found = []
    for rel in rels if rels is not None else ():
        target, mode = rel.get("Target", ""), rel.get("TargetMode", "")
        if not isinstance(target, str) or mode == "External":
            continue
        full = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target))
        found.append((rel.get("Id", ""), rel.get("Type", ""), full))
    return found


def damaged(what: str, err: Exception) -> Unreadable:
    """The one-line failure for a package of kind `what` ("Word document (.docx)") that an error
    stopped: the error's first line, never a traceback."""
    reason = (str(err).splitlines() or [""])[0][:200] or type(err).__name__
    return Unreadable(f"not a readable {what}, damaged ({reason})")


def declared_title(core) -> str:
    """The title its properties part (`docProps/core.xml`, parsed, or None) declares, or ""."""
    found = core.find("{http://purl.org/dc/elements/1.1/}title") if core is not None else None
    return (found.text or "").strip() if found is not None and isinstance(found.text, str) else ""
