"""Keeping the index in step with the files: incremental add, rebuild (with pruning) and remove.

A file is identified by its source path; its sha256 decides whether it changed. Unchanged files
keep their chunks and vectors, changed and new ones are loaded, chunked and embedded, files gone
from a rebuild's paths are pruned. A file that fails to load is reported and keeps whatever it had
in the index. A file removed on request stays out when a folder that holds it is indexed again,
until it is added by name. Nothing is written when nothing changed. Writers are serialised by a lock and the
save is atomic (the store: `store/`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from assistant.ingest.chunking import CHUNKER_VERSION, Chunk, chunk_document
from assistant.ingest.sentences import as_read
from assistant.config import MIB, SUPPORTED_SUFFIXES, Settings
from assistant.ingest.documents import LEGACY_SUFFIXES, LoadError, check_regular_file, file_sha256, load, unsupported
from assistant.store.snapshot import (FileEntry, IndexBusy, IndexMissing, IndexProblem, Manifest, Snapshot, is_default_index, now,
                                      rebuild_command)
from assistant.store import Store, named_or_default, open_store


@dataclass(frozen=True)
class Report:
    """What an indexing call did."""

    index_dir: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (source, reason)
    skipped: tuple[tuple[str, str], ...] = ()  # files in folders that are not documents, or were removed on request
    chunks: int = 0  # chunks in the index afterwards
    embedded: int = 0  # sentences embedded by this call (the vectors computed)
    seconds: float = 0.0
    reused: int = 0  # sentences whose vectors were not embedded again: from the index before (moved, copied or unchanged in an edited file) or a copy in this call
    recipe: str = ""  # how the index's recipe differed from the settings', when this call re-read every document for it

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed; "
            f"{self.chunks} chunks in {self.index_dir} ({self.embedded} sentence{'s' * (self.embedded != 1)} embedded"
            f"{f', {self.reused} reused' if self.reused else ''}, {self.seconds:.1f} s)"
        )
        problems = [f"note: every document was read again: the index was {self.recipe}"] if self.recipe else []
        problems += [f"failed: {one_line(source)}: {one_line(reason)}" for source, reason in self.failed]
        # warnings first and always, then what a request kept out, then the rest (files that are
        # not documents), at most SKIPPED_SHOWN in all: a folder of 1,500 .json files had printed them all
        ordered = sorted(self.skipped, key=lambda item: _skip_order(item[1]))
        shown = [item for i, item in enumerate(ordered) if i < SKIPPED_SHOWN or _skip_order(item[1]) == 0]
        problems += [f"skipped: {one_line(source)}: {one_line(reason)}" for source, reason in shown]
        if len(shown) < len(ordered):
            problems.append(f"skipped: {len(ordered) - len(shown)} more (the whole list: --json, or Report.skipped)")
        return "\n".join([line, *problems])


_LINE_BREAKS = str.maketrans({c: c.encode("unicode_escape").decode() for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})  # str.splitlines' breaks


def one_line(text: str) -> str:
    """`text` on one line: its line breaks (a file name may hold them) written as escapes."""
    return str(text).translate(_LINE_BREAKS)


SKIPPED_SHOWN = 20  # skipped files named in a summary (each failure is always named)
NOT_THERE = "no such file or directory"
FOLDER_NOT_REMOVED = ("a folder, not a document: {n} indexed under it; remove them by name, or rebuild without the "
                      "folder (`index rebuild` with the folders to keep)")
UNREADABLE = "cannot read this folder"
GONE_KEPT = "no longer in its folder, still indexed: `index rebuild` (exactly the folders) or `index remove` drops it"
BAD_NAME = "its name is not valid UTF-8 (an older system's encoding): rename it to index it"
LINKED_FOLDER = "a link to a folder, not followed (a link may lead back into the folder): add it by name to index what it holds"
EXCLUDED = "removed from the index on request, so its folder does not bring it back; add it by name to index it again"
NOT_KEPT_OUT = ("removed from the index, but not kept out of its folder, which is not there from {cwd} (recorded as "
                "given, from another working folder): a rebuild from there brings it back; remove it from there to keep it out")


def _skip_order(reason: str) -> int:
    """Where a skipped file's line goes in a summary: a warning (0), kept out on request (1), the rest (2)."""
    if reason.startswith(NOT_KEPT_OUT.partition("{")[0]):
        return 0
    return 1 if reason == EXCLUDED else 2


@dataclass
class _Plan:
    keep: dict[str, FileEntry] = field(default_factory=dict)
    fresh: dict[str, tuple[list[Chunk], str, bool]] = field(default_factory=dict)  # source -> (chunks, sha, existed)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    replace_roots: bool = False  # a rebuild: the paths given become the recorded roots
    unrooted: list[str] = field(default_factory=list)  # removed on request: no longer a root if one
    excluded: set[str] = field(default_factory=set)  # recorded before: removed on request (resolved paths)
    newly_excluded: dict[str, str] = field(default_factory=dict)  # removed on request by this call: resolved path -> as named
    passed_over: set[str] = field(default_factory=set)  # exclusions a folder of this call reached
    reused: int = 0  # sentence vectors not embedded again: taken from the index before (`_known_vectors`) or a copy in this call
    embedded: int = 0  # sentence vectors computed
    recipe: str = ""  # how the index's recipe differs from the settings' (`recipe_change`), when it does
    lost: list[tuple[str, str]] = field(default_factory=list)  # indexed documents that only the recipe change would drop: (source, why)


def collect(paths: Iterable[str | os.PathLike]) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """Expand files and folders into document paths (as given, normalised), plus failures and skips."""
    files, failed, skipped = [], [], []
    seen = set()
    for raw in paths:
        path = os.path.normpath(os.fspath(raw))
        if os.path.isdir(path):
            if os.path.realpath(path) in seen:
                continue  # the same folder named twice ("docs docs/"): walked once
            seen.add(os.path.realpath(path))
            found = 0  # documents in it, also those another path named already
            unreadable = []  # a folder that cannot be listed is not an empty one: say so, never prune it
            for folder, dirs, names in os.walk(path, onerror=unreadable.append):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in dirs:  # os.walk does not enter them (a link may loop): say so
                    if os.path.islink(os.path.join(folder, name)):
                        skipped.append((os.path.join(folder, name), LINKED_FOLDER))
                for name in sorted(names):
                    if name.startswith("."):
                        continue
                    full = os.path.join(folder, name)
                    if not _utf8(full):
                        failed.append((_shown_name(full), BAD_NAME))
                    elif Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                        found += 1
                        if os.path.realpath(full) not in seen:
                            seen.add(os.path.realpath(full))
                            files.append(full)
                    elif Path(name).suffix.lower() in LEGACY_SUFFIXES:  # a document, in a format to save anew
                        skipped.append((full, unsupported(Path(name).suffix.lower())))
                    else:
                        skipped.append((full, f"not a supported document type ({', '.join(SUPPORTED_SUFFIXES)})"))
            failed += [(os.path.normpath(err.filename or path), f"{UNREADABLE} ({err.strerror or err})") for err in unreadable]
            if not found and not unreadable:
                skipped.append((path, f"a folder with no documents in it ({', '.join(SUPPORTED_SUFFIXES)})"))
        elif os.path.lexists(path) and not _utf8(path):
            failed.append((_shown_name(path), BAD_NAME))
        elif os.path.lexists(path):  # a broken link or a loop is reported by the load
            if os.path.realpath(path) not in seen:
                seen.add(os.path.realpath(path))
                files.append(path)
        else:
            failed.append((path, NOT_THERE))
    return files, failed, skipped


def _utf8(path: str) -> bool:
    """Whether a path's name is valid UTF-8 (the index records it as text; a Latin-1 name read
    from the disk holds undecodable bytes as surrogates, which had failed the whole call)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown_name(path: str) -> str:
    """A path with undecodable bytes shown as escapes ("caf\\xe9.txt"), printable as text."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class _Paths:
    """Paths looked up by their spelling and their resolved path, so that those a path is or lies
    in are found by walking up its folders (`around`), not by checking every one: with a root per
    file added by name, removing half of 1,000 had taken 22 s."""

    def __init__(self, paths):
        self.by: dict[str, list[str]] = {}
        for path in paths:
            for key in {os.path.normpath(path), os.path.realpath(path)}:
                self.by.setdefault(key, []).append(path)

    def around(self, path: str) -> set[str]:
        """Every path of these that `path` is or lies in, as spelt or as resolved (a superset of
        those `_under(path, p)` holds for, which the caller checks)."""
        found: set[str] = set()
        if not self.by:
            return found
        for start in {os.path.normpath(path), os.path.realpath(path)}:
            folder = start
            while True:
                found.update(self.by.get(folder, ()))
                parent = os.path.dirname(folder)
                if parent == folder:
                    break
                folder = parent
        return found


def _gone(source: str) -> bool:
    """Whether an indexed file is gone from the disk. A relative source is looked for from the
    working folder, which may not be the one it was recorded from: it is gone only where its
    folder is found from here without it ("notes/a.txt" renamed to "notes/b.txt" in the same
    folder); where even its folder is not, it is not known to be gone."""
    if os.path.lexists(source):
        return False
    return os.path.isabs(source) or os.path.isdir(os.path.dirname(source) or os.curdir)


def _under(source: str, root: str) -> bool:
    """Whether the indexed `source` is the file `root` or lies in the folder `root` (as spelt or
    as resolved)."""
    for a, b in ((source, os.path.normpath(root)), (os.path.realpath(source), os.path.realpath(root))):
        if a == b or a.startswith(b.rstrip(os.sep) + os.sep):
            return True
    return False


def sync(
    paths: Sequence[str | os.PathLike] | None,
    index_dir: str | os.PathLike,
    settings: Settings,
    embedder,
    *,
    prune: bool,
    remove: Sequence[str] = (),
    progress: bool = False,
    cancel: threading.Event | None = None,
    recorded: bool = False,
) -> Report:
    """Bring the index in `index_dir` (a folder or a milvus:// store) up to date with `paths`
    (see the module docstring).

    A rebuild (`prune`) drops every document its paths do not hold, so one with a path that is not
    there changes nothing and says so (with `recorded`, the paths came from the index, or its
    defaults: the failure says how to go on without the path). `paths` None (a rebuild given no
    path): the index's recorded folders (`rebuild_roots`), read once the lock is held, so a write
    that ran while this one waited is rebuilt, not undone (they had been read before the wait, and
    a rebuild then pruned all that the other write had added)."""
    began = time.perf_counter()
    store = open_store(index_dir, settings)
    index_dir = store.name
    with store.lock(settings.lock_timeout, waiting=(lambda line: print(line, file=sys.stderr, flush=True)) if progress else None):
        if paths is None:
            paths = rebuild_roots(index_dir, settings)
        old = _load_or_none(store, start_over=prune)
        _check_base(old, index_dir)
        change = recipe_change(old.manifest, settings, embedder) if old is not None else None
        reuse = old is not None and change is None
        old_entries = {f.source: f for f in old.manifest.files} if old else {}
        files, failed, skipped = collect(paths)
        # a rebuild prunes whatever its paths do not hold: with one of them not there (a typo, a
        # relative path recorded from another working folder, a deleted or unmounted folder, a
        # broken link) it would prune what that path held, so it changes nothing instead
        missing = list(dict.fromkeys(os.path.normpath(os.fspath(p)) for p in paths if not os.path.exists(p))) if prune else []
        # likewise a folder that cannot be listed (permissions): its documents would all be pruned
        unreadable = [(folder, why) for folder, why in failed if why.startswith(UNREADABLE)] if prune else []
        if missing or unreadable:
            refused = [(path, _not_rebuilt(path, old_entries, recorded)) for path in missing]
            refused += [(folder, _not_rebuilt(folder, old_entries, False, why)) for folder, why in unreadable]
            plan = _Plan(failed=refused + [f for f in failed if f[0] not in missing and f not in unreadable], skipped=list(skipped))
            return _report(index_dir, plan, len(old.chunks) if old else 0, 0, began)
        plan = _Plan(failed=list(failed), skipped=list(skipped), replace_roots=prune, recipe=change or "",
                     excluded=set(old.manifest.excluded) if old else set((store.recorded() or {}).get("excluded", ())))
        by_real = {os.path.realpath(s): s for s in old_entries}
        named = {os.path.realpath(p) for p in paths if not os.path.isdir(p)}
        wanted = set()
        for path in files:
            real = os.path.realpath(path)
            source = path if path in old_entries else by_real.get(real, path)
            if real in plan.excluded and real not in named:  # reached through a folder: stays out
                plan.skipped.append((path, EXCLUDED))
                plan.passed_over.add(real)
                continue
            wanted.add(source)
            existing = old_entries.get(source)
            try:
                check_regular_file(path, path)  # a named pipe would block the reads below forever
                size_mib = os.path.getsize(path) / MIB
                if size_mib > settings.max_file_mb:
                    raise LoadError(path, f"too large ({size_mib:.1f} MiB; the limit is {settings.max_file_mb:g} MiB)")
                sha = file_sha256(path)
                if existing and reuse and existing.sha256 == sha:
                    plan.keep[source] = existing
                    plan.unchanged.append(source)
                    continue
                sha, document = _read_whole(path, source, sha, settings)
            except (LoadError, OSError) as err:
                reason = err.reason if isinstance(err, LoadError) else f"cannot read ({err.strerror or err})"
                passing = not isinstance(err, LoadError) or isinstance(err, _KeptChanging)  # a read failed, not the file
                if existing and reuse and passing:
                    plan.keep[source] = existing  # a read that failed (permissions): keeps what it had
                    reason += "; its version indexed before is kept (index remove drops it)"
                elif existing and not prune and passing:
                    plan.lost.append((source, reason))  # kept with the same recipe: an add does not drop it for a new one
                    continue
                elif existing:
                    # what the file now is (emptied, not text, too large): its earlier text must
                    # not go on being quoted as what the file says
                    reason += "; its version indexed before was dropped from the index"
                    plan.removed.append(source)
                plan.failed.append((source, reason))
                continue
            chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
            if why := store.refusal(chunks):  # before anything is embedded: this file fails, the rest go on
                plan.failed.append((source, why.removeprefix(f"{source}: ")))
                if existing:
                    plan.removed.append(source)
                continue
            plan.fresh[source] = (chunks, sha, existing is not None)
            (plan.updated if existing else plan.added).append(source)
        folders = _Paths([os.path.normpath(os.fspath(p)) for p in paths if os.path.isdir(p)])
        moved = {sha for _, sha, _ in plan.fresh.values()}
        remove_set = {os.path.normpath(r) for r in remove}
        remove_real = {os.path.realpath(r) for r in remove}
        for source, entry in old_entries.items():
            if source in wanted:
                continue
            asked = source in remove_set or os.path.realpath(source) in remove_real
            gone = _gone(source)
            if prune or asked or (gone and entry.sha256 in moved):
                # (a document gone from the disk whose content this call indexes elsewhere was moved
                # or renamed: the index had gone on citing the old path, before the copy that is there)
                plan.removed.append(source)
                if asked:
                    plan.unrooted.append(source)
                    plan.newly_excluded[os.path.realpath(source)] = source  # kept while a recorded folder holds it (`_exclusions`)
            elif reuse:
                plan.keep[source] = entry
                if gone and any(_under(source, f) for f in folders.around(source)):
                    plan.skipped.append((source, GONE_KEPT))  # `add` only adds: say what it keeps
            else:
                # The recipe changed (chunking or model): files not named here are re-read too.
                _reload(source, entry, settings, plan, prune)
        for name in remove_set - set(plan.removed):
            if not any(os.path.realpath(name) == os.path.realpath(s) for s in plan.removed):
                under = sum(1 for s in old_entries if _under(s, name))
                why = (FOLDER_NOT_REMOVED.format(n=under) if under else
                       ALREADY_REMOVED if os.path.realpath(name) in plan.excluded else "not in the index")
                plan.failed.append((name, why))

        total_old = len(old.chunks) if old else 0
        if plan.lost:
            # an add (or remove) keeps what it cannot read now; under a new recipe it cannot keep
            # it, so it changes nothing (a stray setting had re-read the index with another model
            # and dropped the documents gone from its folders)
            lost = dict(plan.lost)
            refused = [(source, f"{why}; {RECIPE_REFUSAL.format(change=change)}") for source, why in plan.lost]
            # what this call was asked to add or remove is named too: it was not done
            named = [s for s in [*plan.added, *plan.updated] if s in wanted] + [r for r in plan.removed if r in remove_set]
            refused += [(source, NOT_DONE.format(change=change)) for source in dict.fromkeys(named) if source not in lost]
            return _report(index_dir, _Plan(failed=refused + [f for f in plan.failed if f[0] not in lost]), total_old, 0, began)
        if old is not None and reuse and not (plan.fresh or plan.removed) and not _roots_changed(plan, paths, old, old_entries):
            return _report(index_dir, plan, total_old, 0, began)  # nothing to save
        vectors_from = old if old is not None and _same_vectors(old.manifest, settings, embedder) else None
        manifest, chunks, vectors = _assemble(plan, settings, embedder, progress, paths, old, cancel, vectors_from)
        manifest = replace(manifest, base=_base(old, [*(f.source for f in manifest.files), *manifest.roots], index_dir))
        total = sum(f.chunks for f in manifest.files)
        if old is None and not total and not plan.removed:
            return _report(index_dir, plan, 0, 0, began)
        _stop_if(cancel)
        store.commit(old if reuse else None, manifest, set(plan.keep), chunks, vectors)
        return _report(index_dir, plan, total, plan.embedded, began)


READS_MOST = 3  # reads of a file that keeps changing while it is read, before it is reported


def _read_whole(path: str, source: str, sha: str, settings: Settings):
    """(sha256, document) of one state of the file: it is hashed again after it is read, and read
    again while the two differ, so the hash stored is that of the text indexed (a file saved
    between its hash and its read had been stored with the old hash beside the new text, and then
    never read again while it stayed so: its old text served as current)."""
    for _ in range(READS_MOST):
        document = load(path, source=source, max_chars=int(settings.max_file_mb * MIB))
        after = file_sha256(path)
        if after == sha:
            return sha, document
        sha = after
    raise _KeptChanging(path, f"kept changing while it was read ({READS_MOST} reads); index it again once it is saved")


class _KeptChanging(LoadError):
    """A file saved again and again while it was read: no fault of the file, so a version indexed
    before is kept, as when a read fails."""


def _not_rebuilt(path: str, indexed, recorded: bool, why: str = "") -> str:
    """Why a rebuild with `path` not there (or, with `why`, not readable) changed nothing, what the
    index keeps from it, and, for a recorded root, the way on."""
    held = sum(_under(source, path) for source in indexed)
    kept = f"; the {held} document{'s' * (held != 1)} indexed from it {'are' if held != 1 else 'is'} kept" if held else ""
    way = ("; to go on without it, rebuild from the paths that remain (index rebuild PATH ...) or remove what it held "
           "(index remove SOURCE ...)") if recorded else ""
    reason = why or (NOT_THERE if os.path.isabs(path) else f"{NOT_THERE} (looked for from {os.getcwd()})")
    return f"{reason}; nothing was rebuilt, since a rebuild drops every document its paths do not hold{kept}{way}"


ALREADY_REMOVED = "not in the index: it was removed before"
RECIPE_REFUSAL = ("the index was {change}, so every document must be read again, and this one cannot be: nothing was "
                  "changed (with the index's own settings the add keeps it; index rebuild builds from what can be read)")
NOT_DONE = "not done: the index was {change}, and a document indexed before cannot be read again (listed); nothing was changed"


def _reload(source: str, entry: FileEntry, settings: Settings, plan: _Plan, prune: bool) -> None:
    """Read `source`, indexed before and not named in this call, again under a new recipe. One that
    cannot be read is dropped by a rebuild; an add keeps what it cannot read, so it is `lost`."""
    try:
        document = load(source, max_chars=int(settings.max_file_mb * MIB))
    except LoadError as err:
        if not prune:
            plan.lost.append((source, err.reason))
            return
        plan.failed.append((source, f"{err.reason}; dropped from the rebuilt index"))
        plan.removed.append(source)
        return
    chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    plan.fresh[source] = (chunks, document.sha256, True)
    plan.updated.append(source)


def _load_or_none(store: Store, start_over: bool) -> Snapshot | None:
    """The current index; None if there is none, or if it is unusable and we may start over."""
    try:
        return store.load()
    except IndexMissing:
        return None
    except IndexProblem:
        if start_over:
            return None
        raise


def recipe_change(manifest: Manifest, settings: Settings, embedder) -> str | None:
    """How the index's recipe (model, chunking, chunker version) differs from what would be
    built now, in words; None when it is the same and stored vectors can be reused."""
    built = (manifest.model, manifest.dimension, manifest.chunk_size, manifest.chunk_overlap,
             manifest.title_in_embedding, manifest.chunker_version)
    wanted = (embedder.model_name, embedder.dimension, settings.chunk_size, settings.chunk_overlap,
              settings.title_in_embedding, CHUNKER_VERSION)
    if built == wanted:
        return None
    names = ("model", "dimension", "chunk size", "chunk overlap", "titles embedded", "chunker version")
    differ = [i for i, (old, new) in enumerate(zip(built, wanted)) if old != new]
    return (f"built with {', '.join(f'{names[i]} {built[i]!r}' for i in differ)}; "
            f"the settings ask for {', '.join(f'{names[i]} {wanted[i]!r}' for i in differ)}")


WHOLE_WORDS_SINCE = 5  # the chunker version since which a sentence is embedded as read (`sentences.as_read`)


def _same_vectors(manifest: Manifest, settings: Settings, embedder) -> bool:
    """Whether the index's sentence vectors are what this recipe would compute for the same text
    (same model and dimension, titles embedded or not alike), whatever the chunking: a new chunker
    version or chunk size re-chunks every document but embeds only sentences it has not seen."""
    return (manifest.model, manifest.dimension, manifest.title_in_embedding) == (
        embedder.model_name, embedder.dimension, settings.title_in_embedding)


def _known_vectors(plan: _Plan, before: Snapshot | None, settings: Settings, embedder) -> dict[str, np.ndarray]:
    """Vectors the index before already holds for text this call embeds, by the text embedded:
    the sentences of documents that change here (edited, removed, moved) and of documents with
    the same content as a new one (a copy, or a file moved without a rebuild). An edit of one word
    in a file of 7,489 sentences had re-embedded all of them, and a renamed folder every file.
    Only exact vectors of the same model (a compressed index's are approximate)."""
    if before is None or not plan.fresh or getattr(before, "quantised", False) or before.manifest.model != embedder.model_name:
        return {}
    shas = {sha for _, sha, _ in plan.fresh.values()}
    sources = set(plan.fresh) | set(plan.removed) | {f.source for f in before.manifest.files if f.sha256 in shas}
    old = [c for c in before.chunks if c.source in sources]
    if not old:
        return {}
    keys, texts = embedding_texts(old, settings.title_in_embedding, before.manifest.chunker_version >= WHOLE_WORDS_SINCE)
    return dict(zip(texts, before.vectors_of(keys)))



def embedding_texts(chunks: list[Chunk], with_title: bool, whole_words: bool = True) -> tuple[list[tuple[str, int, int]], list[str]]:
    """The distinct sentences of `chunks` (keys as in `index.sentence_keys`) and the text embedded
    for each: the sentence as read (`sentences.as_read`; as written with `whole_words` False, as
    indexes made before chunker version WHOLE_WORDS_SINCE embedded it), with its document's title
    in front when configured."""
    read = as_read if whole_words else str
    keys, texts, seen = [], [], set()
    for chunk in chunks:
        for s, e in chunk.sentences:
            key = (chunk.source, s, e)
            if key in seen:
                continue
            seen.add(key)
            sentence = read(chunk.text[s - chunk.start : e - chunk.start])
            keys.append(key)
            texts.append(f"{chunk.title}\n{sentence}" if with_title and chunk.title else sentence)
    return keys, texts


def _assemble(
    plan: _Plan, settings: Settings, embedder, progress: bool, paths, previous: Snapshot | None,
    cancel: threading.Event | None = None, same_recipe: Snapshot | None = None,
) -> tuple[Manifest, list[Chunk], np.ndarray]:
    """The new manifest and the fresh chunks with their sentence vectors (embedded here, or taken
    from `same_recipe`, the index before when its vectors are this recipe's: see `_same_vectors`
    and `_known_vectors`).
    `previous` is the index before this call, whose dates and roots carry over."""
    new_chunks = [c for chunks, _, _ in plan.fresh.values() for c in chunks]
    _, texts = embedding_texts(new_chunks, settings.title_in_embedding)
    known = _known_vectors(plan, same_recipe, settings, embedder)
    todo = [i for i, text in enumerate(texts) if text not in known]
    taken = [i for i, text in enumerate(texts) if text in known]
    # a text this call holds more than once (copies of a file, a disclaimer under every page) is
    # embedded once: three copies of a folder had embedded every sentence three times
    distinct = list(dict.fromkeys(texts[i] for i in todo))
    embedded = dict(zip(distinct, _embed(distinct, embedder, progress, cancel, settings.index_threads or None)))
    new_vectors = np.empty((len(texts), embedder.dimension), np.float32)
    if todo:
        new_vectors[todo] = np.stack([embedded[texts[i]] for i in todo])
    if taken:
        new_vectors[taken] = np.stack([known[texts[i]] for i in taken])
    plan.reused, plan.embedded = len(texts) - len(distinct), len(distinct)
    stamp = now()
    entries = dict(plan.keep)
    old_added = {f.source: f.added for f in previous.manifest.files} if previous else {}
    for source, (file_chunks, sha, _) in plan.fresh.items():
        entries[source] = FileEntry(source, sha, len(file_chunks), old_added.get(source, stamp), stamp)
    roots = _roots(plan, paths, previous, entries)
    excluded = _exclusions(plan, roots, entries)
    for path, source in plan.newly_excluded.items():
        # removed by a name recorded relative to another working folder: nothing here to keep out
        if path not in excluded and not os.path.lexists(path) and any(_under(source, r) and not os.path.exists(r) for r in roots):
            plan.skipped.append((source, NOT_KEPT_OUT.format(cwd=os.getcwd())))
    manifest = Manifest(
        model=embedder.model_name,
        dimension=embedder.dimension,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        title_in_embedding=settings.title_in_embedding,
        chunker_version=CHUNKER_VERSION,
        files=tuple(entries[s] for s in sorted(entries)),
        roots=tuple(roots),
        excluded=tuple(excluded),
    )
    return manifest, new_chunks, new_vectors


def _base(previous: Snapshot | None, recorded: list[str], index_dir) -> str:
    """The working folder the index's relative paths are named from (`Manifest.base`): kept from
    before (or this one where that folder is gone: `_check_base` let the write through), else this
    one. "" where it records no relative path; for the default index, whose relative `documents`
    are the project's (`_from_the_project`); where they are named from the project's folder (the
    shipped index); and where relative paths were recorded before without one (named from the
    project's folder, or before indexes recorded it: stamping this folder on them had locked out
    the folder they were named from)."""
    from assistant.config import PROJECT_DIR

    if not any(not os.path.isabs(path) for path in recorded) or is_default_index(index_dir):
        return ""
    if previous is not None and previous.manifest.base and os.path.isdir(previous.manifest.base):
        return previous.manifest.base
    if previous is not None and not previous.manifest.base and any(not os.path.isabs(f.source) for f in previous.manifest.files):
        return ""
    here = os.getcwd()
    return "" if os.path.realpath(here) == os.path.realpath(PROJECT_DIR) else here


def _check_base(old: Snapshot | None, index_dir) -> None:
    """Refuse to change an index whose relative paths were named from another working folder that
    is still there: "docs" there is another folder than "docs" here, and an add had replaced the
    indexed docs/a.txt with this folder's (a rebuild, the whole indexed folder with this one's; an
    absolute path to this folder's docs/a.txt had been taken for the indexed one too). Where that
    folder is gone (a project moved or renamed), its relative paths are read from here, as before."""
    base = old.manifest.base if old is not None else ""
    if (not base or is_default_index(index_dir) or not os.path.isdir(base)
            or os.path.realpath(base) == os.path.realpath(os.getcwd())):
        return
    raise IndexProblem(f"{index_dir}: names its documents relative to {base}, not to this folder ({os.getcwd()}); "
                       f"run index commands on it from {base}")


def _roots(plan: _Plan, paths, previous: Snapshot | None, entries) -> list[str]:
    """The paths the index records after this call (what a rebuild without paths reads): a
    rebuild's paths, or those before and this call's. A document removed on request that was a
    root of its own (a file added by name) is no longer one, nor is a recorded path that is not
    there and holds no indexed document (a folder moved away: its documents removed)."""
    roots = list(previous.manifest.roots) if previous and not plan.replace_roots else []
    for p in paths:
        p = os.path.normpath(os.fspath(p))
        if p not in roots and _utf8(p):  # (a name that is not UTF-8 failed: it cannot be recorded)
            roots.append(p)
    gone = _Paths(plan.unrooted)
    roots = [r for r in roots if not any(_under(r, g) for g in gone.around(r))]
    missing = [r for r in roots if not os.path.lexists(r)]
    if not missing:
        return roots  # the usual case: no resolving of every indexed path
    held, removed = _Paths(missing), set(plan.removed)
    holding = {r for source in entries if source not in removed for r in held.around(source) if _under(source, r)}
    return [r for r in roots if r in holding or r not in missing]


def _roots_changed(plan: _Plan, paths, old: Snapshot, entries) -> bool:
    """Whether a call that changes no document changes what is recorded: a rebuild's paths, a
    folder added that no recorded one holds (its documents all indexed already), a recorded path
    gone. A file added again inside a recorded folder changes nothing."""
    before = list(old.manifest.roots)
    after = _roots(plan, paths, old, entries)
    if after == before:
        return False
    if plan.replace_roots or set(before) - set(after):
        return True
    recorded = _Paths(before)
    return any(not any(_under(r, held) for held in recorded.around(r)) for r in after if r not in before)


def _exclusions(plan: _Plan, roots: list[str], entries: dict[str, FileEntry]) -> list[str]:
    """What stays out of later folder scans: the files removed on request (by resolved path) that
    are still there and not indexed again (added by name, under any spelling), the new ones while
    a recorded folder other than the file itself holds them, the earlier ones unless a rebuild
    (whose roots resolve from here, or it would have stopped) leaves no folder holding them and
    reached none of them through a folder."""
    if not (plan.excluded or plan.newly_excluded):
        return []  # the usual case: no resolving of every indexed path at every save
    indexed = {os.path.realpath(source) for source in entries}
    folders = _Paths(roots)  # each path below is checked against the roots it lies in, not all of them

    def held(path: str) -> bool:
        return any(_under(path, root) and not _under(root, path) for root in folders.around(path))

    def held_as_named(source: str) -> bool:
        """Whether a recorded folder holds `source` where it was named: a link in the folder to a
        file elsewhere is reached through the folder, though its resolved path lies outside."""
        located = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(source))), os.path.basename(source))
        return any(located.startswith(os.path.realpath(root).rstrip(os.sep) + os.sep) for root in folders.around(located))

    def stays(path: str, new: bool) -> bool:
        if not os.path.lexists(path) or path in indexed:
            return False
        if new:
            return held(path) or held_as_named(plan.newly_excluded[path])
        return path in plan.passed_over or not plan.replace_roots or held(path)

    return sorted({p for p in plan.excluded if stays(p, False)} | {p for p in plan.newly_excluded if stays(p, True)})


class Cancelled(Exception):
    """An indexing call stopped on request before it saved anything: the index is as it was."""


def _stop_if(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("indexing cancelled; the index is as it was")


def _embed(texts: list[str], embedder, progress: bool, cancel: threading.Event | None = None,
           threads: int | None = None) -> np.ndarray:
    """Vectors of `texts` on `threads` threads (None: the embedder's own choice); a set `cancel`
    stops it after the block being embedded."""
    _stop_if(cancel)
    if not texts:
        return np.empty((0, embedder.dimension), np.float32)
    if not progress:
        return embedder.embed(texts, progress=(lambda n: _stop_if(cancel)) if cancel else None, threads=threads)
    from tqdm import tqdm

    with tqdm(total=len(texts), unit="sentence", desc="Embedding", file=sys.stderr) as bar:
        return embedder.embed(texts, progress=lambda n: (bar.update(n), _stop_if(cancel)), threads=threads)


def _report(index_dir: str, plan: _Plan, chunks: int, embedded: int, began: float) -> Report:
    failed = {path for path, _ in plan.failed}
    return Report(
        index_dir=index_dir,
        added=tuple(plan.added),
        updated=tuple(plan.updated),
        removed=tuple(plan.removed),
        unchanged=tuple(plan.unchanged),
        failed=tuple(plan.failed),
        skipped=tuple(skip for skip in plan.skipped if skip[0] not in failed),  # a file named and in a folder: once
        chunks=chunks,
        embedded=embedded,
        seconds=time.perf_counter() - began,
        reused=plan.reused,
        recipe=plan.recipe if plan.fresh else "",
    )


def _run(paths, index_dir, settings, embedder, progress, prune, remove=(), cancel=None, recorded=False) -> Report:
    from assistant.ingest.embeddings import default_embedder

    settings = Settings.given(settings)
    return sync(
        paths, named_or_default(index_dir, settings), settings, embedder or default_embedder(settings),
        prune=prune, remove=remove, progress=progress, cancel=cancel, recorded=recorded,
    )


def _as_list(paths, what: str) -> list:
    """`paths` (one path, or several) as a list, or a one-line ValueError naming `what`."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    elif isinstance(paths, bytes) or not isinstance(paths, Iterable):
        raise ValueError(f"{what}: expected a path or a list of paths, got {type(paths).__name__}")
    paths = list(paths)
    if not paths:
        raise ValueError(f"{what}: give at least one file or folder")
    wrong = [p for p in paths if not isinstance(p, (str, os.PathLike))]
    if wrong:
        raise ValueError(f"{what}: {wrong[0]!r} is not a path (a string or os.PathLike)")
    if any(os.fspath(p) == "" for p in paths):  # read as "." it had indexed the working folder
        raise ValueError(f"{what}: '' is an empty path; name a file or folder ('.' for the working folder)")
    return paths


def _checked_cancel(cancel):
    """`cancel` as given: None or an event (anything with `is_set`), else a one-line ValueError."""
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise ValueError(f"cancel: expected a threading.Event, got {type(cancel).__name__}")
    return cancel


def add_documents(paths, index_dir=None, *, settings=None, embedder=None, progress=False, cancel=None) -> Report:
    """Index new or changed files (and the documents in folders) without touching the rest.
    Setting the `threading.Event` `cancel` stops it with `Cancelled`, nothing saved."""
    return _run(_as_list(paths, "paths"), index_dir, settings, embedder, progress, prune=False, cancel=_checked_cancel(cancel))


def rebuild_index(paths=None, index_dir=None, *, settings=None, embedder=None, progress=False) -> Report:
    """Make the index hold exactly the documents under `paths` (default: the index's recorded
    roots, or the default corpus). Unchanged files are not re-embedded; missing ones are pruned.
    A path that is not there changes nothing (`sync`)."""
    settings = Settings.given(settings)
    recorded = paths is None
    return _run(None if recorded else _as_list(paths, "paths"), index_dir, settings, embedder, progress, prune=True, recorded=recorded)


def rebuild_roots(index_dir, settings: Settings) -> list[str]:
    """What a rebuild given no path indexes: the store's recorded folders; the default corpus
    where there is no index yet, or for the default index. A store that is there but whose
    recorded folders cannot be read, or that records none (its documents all removed), is not
    filled with the default corpus: that is an `IndexProblem` asking for the folders."""
    index_dir = named_or_default(index_dir, settings)
    roots = _recorded_roots(index_dir, settings)
    if roots and is_default_index(index_dir):
        return [_from_the_project(root) for root in roots]
    if roots:
        return roots
    if roots is None or is_default_index(index_dir):
        return default_roots(settings)
    why = "its recorded folders cannot be read" if roots is _NOT_READ else "it records no folder (its documents were removed)"
    raise IndexProblem(f"{index_dir}: {why}; name the folders to index: `{rebuild_command(index_dir)} PATH …`")


_NOT_READ: list = []  # _recorded_roots: an index is there, but not what it recorded


def _from_the_project(root: str) -> str:
    """A folder the default index recorded, as found: the shipped index records its folder as the
    project names it ("documents", built from the project's root), so where a relative one is not
    found from the working folder but is in the project, the project's (the app started from
    another folder had failed to rebuild: "documents: no such file or directory")."""
    from assistant.config import PROJECT_DIR

    if os.path.isabs(root) or os.path.exists(root) or not os.path.exists(PROJECT_DIR / root):
        return root
    return str(PROJECT_DIR / root)


def remove_documents(sources, index_dir=None, *, settings=None, embedder=None) -> Report:
    """Drop documents (by their indexed source path) from the index."""
    return _run([], index_dir, settings, embedder, False, prune=False, remove=_as_list(sources, "sources"))


def default_roots(settings: Settings) -> list[str]:
    """What a rebuild indexes when given no path and none is recorded: the corpus folder, and
    with the default one (the uploads folder) the shipped documents too."""
    from assistant.config import DEFAULT_UPLOADS_DIR, SHIPPED_DOCUMENTS_DIR

    if os.path.abspath(settings.corpus_dir) != os.path.abspath(DEFAULT_UPLOADS_DIR):
        return [settings.corpus_dir]
    return [str(SHIPPED_DOCUMENTS_DIR)] + [settings.corpus_dir] * os.path.isdir(settings.corpus_dir)


def _recorded_roots(index_dir, settings: Settings) -> list[str] | None:
    """The store's recorded folders; None where there is no index at all, `_NOT_READ` where one is
    there but what it recorded cannot be read."""
    store = open_store(index_dir, settings)
    try:
        return list(store.load().manifest.roots)
    except IndexMissing:  # no CURRENT: a generation left behind may still say what was indexed
        return (store.recorded() or {}).get("roots")
    except IndexBusy:  # held by another process: say so, not that its folders cannot be read
        raise
    except IndexProblem:  # unreadable, or another format: its manifest may still say what was indexed
        found = store.recorded()
        return None if found is None else found.get("roots", _NOT_READ)  # None: a first build cut short


def ensure_index(index_dir=None, *, settings: Settings | None = None, embedder=None, progress: bool = False,
                 say=None, searcher=None) -> Report | None:
    """Make the store usable: when it is missing, unreadable, or made with another recipe (model,
    chunking), rebuild it from its recorded folders (or the default corpus) and return the
    `Report`; None when it was fine. `say(line)` hears why a build starts. The app runs this at
    start; the CLI before a question on the default index. `searcher` (a callable) gives the
    caller's own searcher to check, instead of the process's cached one."""
    from assistant.ingest.embeddings import default_embedder
    from assistant.search.retrieval import searcher_for

    settings = Settings.given(settings)
    index_dir = named_or_default(index_dir, settings)
    embedder = embedder or default_embedder(settings)
    try:
        current = searcher() if searcher is not None else searcher_for(index_dir, settings, embedder)
        problem = recipe_change(current.index.manifest, settings, embedder)
    except IndexProblem as err:
        problem = str(err)
    if problem is None:
        return None
    if say is not None:
        say(problem)
    return rebuild_index(None, index_dir, settings=settings, embedder=embedder, progress=progress)
