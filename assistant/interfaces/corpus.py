"""The corpus folder: uploads checked, saved under safe names, indexed, and undone on failure.

`safe_document_name` decides which names an upload may have. `CorpusFolder.add` checks each file
(name, size, readable as a document) under its own name in a hidden folder inside the corpus
folder (which indexing skips), moves it into place (over a different document of the same name
only with `replace`, the old one kept aside), indexes the lot, and undoes the move of every file
the indexer rejects, and of all of them when indexing fails or is cancelled: the folder and the
index stay as they were. `CorpusFolder.remove` drops a document from the index and deletes its
file when it lives in the corpus folder. The browser chat and Python callers share this code.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Sequence

from assistant.config import MIB, SUPPORTED_SUFFIXES, Settings
from assistant.ingest.documents import unsupported

_UNSAFE_NAME_CHARS = set('<>:"/\\|?*') | {chr(c) for c in range(32)} | {"\x7f"}


class UploadRefused(ValueError):
    """A file the Documents panel will not take; the message is the one-line reason."""


def safe_document_name(name: str) -> str:
    """The file name an upload is saved under inside the corpus folder (in composed Unicode
    form), or `UploadRefused`.

    Only a plain base name is accepted: no path (absolute or relative, either slash), no `..`,
    no hidden name, no NUL or control character, no character a shell or HTML would act on,
    and a supported document suffix."""
    if not isinstance(name, str) or not name.strip():
        raise UploadRefused("empty file name")
    if "\x00" in name:
        raise UploadRefused("file name contains a NUL byte")
    # composed: "café" typed as "e" + U+0301 (as some systems name files) is the same name, so a
    # second upload of it meets the same-name check instead of becoming a look-alike document
    name = unicodedata.normalize("NFC", name)
    if "/" in name or "\\" in name or os.path.isabs(name):
        raise UploadRefused(f"{name!r}: a file name, not a path, is expected")
    if name in (".", ".."):  # ("Q3 results... draft.txt" is a name: with no slash, ".." inside cannot leave the folder)
        raise UploadRefused(f"{name!r}: '..' is not allowed in a file name")
    if name.startswith("."):
        raise UploadRefused(f"{name!r}: hidden file names are not accepted")
    if unsafe := sorted(set(name) & _UNSAFE_NAME_CHARS, key=name.index):
        shown = ", ".join(repr(c) if c.isprintable() else f"U+{ord(c):04X}" for c in unsafe)
        raise UploadRefused(f"{name!r}: file name contains {shown}, which a file name here may not hold; rename it")
    hidden = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp")]
    if hidden:
        raise UploadRefused(f"{name!r}: file name contains an invisible or text-direction character "
                            f"(U+{ord(hidden[0]):04X}), which can disguise its real name")
    if name != name.strip() or any(unicodedata.category(c) == "Zs" and c != " " for c in name):
        # " notes.txt" beside "notes.txt" reads the same on the page (HTML folds the space), and a
        # no-break space after ".txt" had been called an unsupported type
        raise UploadRefused(f"{name!r}: file name starts or ends with a space or holds an unusual one, which can disguise its real name")
    if len(name.encode("utf-8", "surrogatepass")) > 200:
        raise UploadRefused(f"{name[:40] + '…' + name[-12:]!r}: file name longer than 200 bytes")  # (which file: its start and end)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRefused(f"{name}: {unsupported(suffix)}")
    return name


class CorpusFolder:
    """The folder that uploads are saved in (`Settings.corpus_dir`) and the store they go into.
    Callers serialise writers (the app holds one lock around `add` and `remove`)."""

    def __init__(self, assistant):
        self.assistant = assistant  # an `Assistant`: its store, settings and embedder
        self.folder = Path(assistant.settings.corpus_dir)

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    def add(self, uploads: Sequence[tuple[str, str]], progress: bool = False, replace: bool = False,
            cancel: threading.Event | None = None) -> list[str]:
        """Save uploaded files (temporary path, wanted name) into the folder and index them.
        Returns the outcome, one line per kind ("Added: ...", "Refused: name: reason", ...)."""
        from assistant.ingest.indexing import Cancelled

        refused: list[str] = []
        staged: dict[str, Path | None] = {}  # saved file -> the file it replaced, moved aside
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".upload-", dir=self.folder) as incoming:
            for temp_path, wanted in uploads:
                try:
                    name = safe_document_name(wanted)
                    if str(self.folder / name) in staged:
                        raise UploadRefused(f"{name}: uploaded twice; the first one is used")
                    checked = Path(incoming, name)
                    self._copy_checked(temp_path, checked)
                    self._check_file(checked, name)
                except UploadRefused as err:
                    refused.append(str(err))
                    continue
                dest = self.folder / name
                backup = None
                if dest.exists() and not replace and not _same_bytes(dest, checked):
                    refused.append(f"{name}: a different document with this name exists; "
                                   "choose 'Replace documents with the same name' (API: replace=True) to replace it")
                    continue
                if dest.exists():
                    backup = Path(incoming, ".replaced", name)
                    backup.parent.mkdir(exist_ok=True)
                    os.replace(dest, backup)
                os.replace(checked, dest)
                staged[str(dest)] = backup
            if not staged:
                return result_lines(refused=refused) or ["Nothing to add."]
            try:
                report = self.assistant.add(list(staged), progress=progress, cancel=cancel)
            except Cancelled:
                for dest, backup in staged.items():
                    _put_back(Path(dest), backup)
                return ["Refused: cancelled; nothing was added, the documents and the index are as they were"]
            except BaseException:
                for dest, backup in staged.items():
                    _put_back(Path(dest), backup)
                raise
            failed = {os.path.normpath(source): reason for source, reason in report.failed}
            restored = []
            for dest, backup in staged.items():
                if os.path.normpath(dest) in failed:
                    _put_back(Path(dest), backup)
                    refused.append(f"{Path(dest).name}: {failed[os.path.normpath(dest)].split('; its version indexed before')[0]}")
                    if backup is not None and dest in report.removed:
                        restored.append(dest)
            if restored:  # the file it replaced is back: so is its text in the index
                self.assistant.add(restored, progress=progress)
        return result_lines(report.added, report.updated, report.unchanged, refused, self.assistant.documents())

    def remove(self, source: str) -> str:
        """Drop `source` from the index; delete its file too when it lives in the corpus folder."""
        if not source or not source.strip():
            return "Choose a document to remove."
        indexed = [f.source for f in self.assistant.documents()]
        if source not in indexed and os.sep not in source and "/" not in source:  # a name as the table shows it
            named = [s for s in indexed if Path(s).name == source]
            if len(named) > 1:
                return f"Not removed: {_shown(source)}: {len(named)} documents have this name; choose one from the list."
            source = named[0] if named else source
        report = self.assistant.remove([source])
        if not report.removed:
            reason = report.failed[0][1] if report.failed else "not in the index"
            return f"Not removed: {_shown(Path(source).name or source)}: {reason}."
        path = Path(source).resolve()
        if path.is_relative_to(self.folder.resolve()) and path.is_file():
            try:
                path.unlink()
                where = "its file was deleted from the corpus folder"
            except OSError as err:
                where = f"its file could not be deleted ({err.strerror})"
        else:
            where = "its file is outside the corpus folder and was kept, and rebuilds leave it out"
        return f"Removed {Path(source).name} from the index; {where}."

    def _copy_checked(self, temp_path: str, checked: Path) -> None:
        name = checked.name
        try:
            size_mib = os.path.getsize(temp_path) / MIB
            if size_mib > self.settings.max_file_mb:
                raise UploadRefused(f"{name}: too large ({size_mib:.1f} MiB; the limit is {self.settings.max_file_mb:g} MiB)")
            shutil.copyfile(temp_path, checked)
        except OSError as err:
            raise UploadRefused(f"{name}: cannot read the upload ({err.strerror or err})") from None

    def _check_file(self, path: Path, name: str) -> None:
        from assistant.ingest.documents import LoadError, load

        try:
            load(path, source=name, max_chars=int(self.settings.max_file_mb * MIB))
        except LoadError as err:
            raise UploadRefused(f"{name}: {err.reason}") from None


def _shown(name: str, most: int = 100) -> str:
    """A name typed by a user as one line: control characters as escapes, cut at `most` characters."""
    shown = repr(name)[1:-1]
    return shown if len(shown) <= most else shown[:most] + "…"


def _same_bytes(a: Path, b: Path) -> bool:
    from assistant.ingest.documents import file_sha256

    return a.stat().st_size == b.stat().st_size and file_sha256(a) == file_sha256(b)


def _put_back(dest: Path, backup: Path | None) -> None:
    """Undo moving an upload to `dest`: remove it, and restore the file it replaced."""
    dest.unlink(missing_ok=True)
    if backup is not None:
        os.replace(backup, dest)


def result_lines(added=(), updated=(), unchanged=(), refused=(), files=()) -> list[str]:
    """What an upload did, one line per kind; `files` (the indexed `FileEntry`s) give passage counts."""
    chunks = {f.source: f.chunks for f in files}
    lines = []
    for word, sources in (("Added", added), ("Updated", updated)):
        if sources:
            lines.append(f"{word}: " + ", ".join(f"{Path(s).name} ({count(chunks.get(s, 0), 'passage')})" for s in sources))
    if unchanged:
        lines.append("Already indexed, unchanged: " + ", ".join(Path(s).name for s in unchanged))
    lines.extend(f"Refused: {reason}" for reason in refused)
    return lines


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
