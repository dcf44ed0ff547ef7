"""The assistant as a server runs it: the index made ready in the background, one writer at a time.

`Service.start()` checks the store in a thread (`indexing.ensure_index`: built from the corpus
when missing, unreadable or made for another model or chunking), then warms it with one
question, so the first real one is fast; questions asked meanwhile wait for it (`wait`). Uploads
and removals go through `corpus.CorpusFolder` under one lock, and an upload being indexed can be
cancelled. No UI here: `app.py` draws this.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from typing import Callable, Sequence

from assistant.config import Settings
from assistant.interfaces.corpus import CorpusFolder, count
from assistant.interfaces.render import escape
from assistant.facade import Assistant

READY_TIMEOUT = 600.0  # seconds a question waits for the index to be built at start


class Service:
    """The assistant as this server runs it: settings, the index's readiness, and the one writer.

    `start()` checks the index in the background (building it from the corpus folder when it is
    missing, unreadable, or made for another model or chunking), then warms it with one question
    so the first real one is fast. Questions asked before that wait for it."""

    def __init__(self, settings: Settings | None = None, embedder=None, log: Callable[[str], None] | None = None):
        self.embedder = embedder  # None: the default model (tests pass a fake)
        self.use(settings or Settings.from_env())
        self.ready = threading.Event()
        self.status = "Starting: the index is not loaded yet."
        self.problem: str | None = None
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._writer = threading.Lock()
        self._cancel = threading.Event()
        self._indexing: tuple[str | None, int] | None = None  # while an upload is indexed: (its session, its files)
        self._thread: threading.Thread | None = None

    def use(self, settings: Settings) -> None:
        """Serve with other settings (e.g. the store named on the command line); before `start()`.
        Unless `index_threads` is set, uploads are embedded on all cores but one, which stays
        free for questions."""
        if settings.index_threads == 0:
            settings = settings.replace(index_threads=max(1, (os.cpu_count() or 1) - 1))
        self.settings = settings
        self.assistant = Assistant(settings.index_dir, settings, self.embedder)
        self.corpus = CorpusFolder(self.assistant)

    # --- start-up ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.prepare, name="index-startup", daemon=True)
            self._thread.start()

    def prepare(self) -> None:
        """Make the index usable (load, or build) and warm it; sets `status` and `ready`."""
        from assistant.ingest.indexing import rebuild_roots

        began = time.perf_counter()
        try:
            report = self.assistant.ensure_index(progress=True, say=lambda why: self._say(
                f"Building the index from {', '.join(rebuild_roots(self.settings.index_dir, self.settings))} ({why}) …"))
            if report is not None:
                self._log(report.summary())
                # a folder not found from here (a relative one, the app started elsewhere) or a file that
                # failed is no "no documents" (the uploads' folder not made yet is: the first upload makes it)
                failed = [(path, why) for path, why in report.failed
                          if os.path.exists(path) or os.path.realpath(path) != os.path.realpath(self.settings.corpus_dir)]
                if not report.chunks and failed:
                    (path, why), more = failed[0], len(failed) - 1
                    self.problem = f"The index could not be rebuilt: {path}: {why}" + (f" (and {more} more)" if more else "")
                    self._say(self.problem)
                    return
                if not report.chunks:
                    folders = ", ".join(rebuild_roots(self.settings.index_dir, self.settings))
                    self.problem = f"{NO_DOCUMENTS_PREFIX}: {folders} holds no readable document."
                    self._say(self.problem + " Add some in the Documents tab.")
                    return
            self._say("Loading the index and the embedding model …")
            self._warm()
            self.problem = None
            self.status = f"ready, loaded in {time.perf_counter() - began:.1f} s"
            self._log(f"Index {self.status}: {self.summary()} ({self.settings.index_dir}).")
        except Exception as err:  # noqa: BLE001 - shown in the UI and on the console, not a traceback
            self.problem = f"The index could not be prepared: {err}"
            self._say(self.problem)
        finally:
            self.ready.set()

    def _say(self, line: str) -> None:
        self.status = line
        self._log(line)

    @property
    def indexing(self) -> bool:
        """Whether an upload is being indexed now (by any session)."""
        return self._indexing is not None

    def status_line(self) -> str:
        """The status every session shows: the index's state in words a browser user can act on
        (the store's own messages name commands to run; those are for the console)."""
        indexing = self._indexing
        busy = f"; indexing an upload of {count(indexing[1], 'file')} …" if indexing else ""
        if self.problem and self.problem.startswith(NO_DOCUMENTS_PREFIX):  # nothing wrong: nothing there yet
            return f"**Index:** No documents indexed yet; add some in the Documents tab{busy or '.'}"
        # (the status is Markdown: its paths and messages are escaped, "*" or "_" in a folder's name had formatted it)
        if self.problem:
            return f"**Index problem:** {escape(for_browser(self.status))}{busy}"
        if self.ready.is_set():
            return f"**Index:** {escape(self.summary())}; {escape(self.status)}{busy or '.'}"
        return f"**Index:** {escape(for_browser(self.status))}"

    def _warm(self) -> None:
        """One question through the whole extractive path (index, embedding and answer models, the
        speller), never the language model: warming must not wait on it or spend its calls."""
        from assistant.answer.answering import ask

        assistant = self.assistant
        ask("What is this about?", settings=self.settings.replace(llm_base_url=""), embedder=assistant.embedder,
            index_dir=assistant.store, searcher=assistant.searcher())

    def wait(self, timeout: float = READY_TIMEOUT) -> None:
        if not self.ready.wait(timeout):
            raise RuntimeError("the index is still being built; try again in a moment")

    # --- questions ---------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence = (), on_token: Callable[[str], None] | None = None):
        from assistant.store.snapshot import IndexMissing

        self.wait()
        if self.problem and self.problem.startswith(NO_DOCUMENTS_PREFIX):  # (every document removed: it had said "The documents don't say.")
            raise IndexMissing(NO_DOCUMENTS)
        try:
            return self.assistant.ask(question, list(history) or None, on_token=on_token)
        except IndexMissing:  # a browser user adds documents in the Documents tab, not with a command
            raise IndexMissing(NO_DOCUMENTS) from None

    def retrieve(self, question: str, k: int | None = None):
        self.wait()
        return self.assistant.retrieve(question, k)

    # --- documents ---------------------------------------------------------------------------

    def files(self) -> tuple:
        """The indexed files (`FileEntry`), from the loaded index, reloaded after any change."""
        from assistant.store.snapshot import IndexProblem

        try:
            return self.assistant.documents()
        except IndexProblem:
            return ()

    def summary(self) -> str:
        files = self.files()
        return f"{count(len(files), 'document')}, {count(sum(f.chunks for f in files), 'passage')} indexed"

    def add_files(self, uploads: Sequence[tuple[str, str]], progress: bool = False, replace: bool = False,
                  session: str | None = None) -> list[str]:
        """Save uploaded files (temporary path, wanted name) into the corpus folder and index them
        (`CorpusFolder.add`: a refused or failed file leaves the folder and the index as they were).
        `session`: whose upload it is (only that session may cancel it; None: anyone)."""
        from assistant.store.snapshot import IndexProblem

        with self._writer:
            self._cancel.clear()
            self._indexing = (session, len(uploads))
            try:
                return self.corpus.add(uploads, progress=progress, replace=replace, cancel=self._cancel)
            except IndexProblem as err:  # locked by another writer, damaged: one line in the result (the folder is as it was)
                return [f"Failed: {browser_line(err)}"]
            finally:
                self._indexing = None
                self._changed()

    def cancel_indexing(self, session: str | None = None) -> str:
        """Stop the upload being indexed (it is rolled back); a no-op when none is, or when it is
        another session's."""
        indexing = self._indexing
        if not self._writer.locked() or indexing is None:
            return "Nothing is being indexed."
        if session is not None and indexing[0] is not None and session != indexing[0]:
            return "The upload being indexed is another user's; only they can cancel it."
        self._cancel.set()
        return "Cancelling: the upload will be rolled back …"

    def remove(self, source: str) -> str:
        """Drop `source` from the index; delete its file too when it lives in the corpus folder."""
        from assistant.store.snapshot import IndexProblem

        with self._writer:
            try:
                return self.corpus.remove(source)
            except IndexProblem as err:
                return f"Not removed: {browser_line(err)}"
            finally:
                self._changed()

    def _changed(self) -> None:
        """After an upload or removal: an index that was empty at start and now holds documents
        is ready (its "no documents" problem is over); one whose last document was removed has
        none (the status had gone on saying "0 documents … ready")."""
        if self.problem and self.problem.startswith(NO_DOCUMENTS_PREFIX) and self.files():
            self.problem = None
            self.status = "ready"
        elif self.problem is None and self.ready.is_set() and not self.files():
            self.problem = NO_DOCUMENTS
            self.status = NO_DOCUMENTS


NO_DOCUMENTS_PREFIX = "No documents indexed"
NO_DOCUMENTS = f"{NO_DOCUMENTS_PREFIX} yet: add some in the Documents tab."
_COMMAND = re.compile(r";? ?(?:run|rebuild it with|try) `[^`]*`(?: or `[^`]*`)*")


def browser_line(err: Exception) -> str:
    """An error for the page: on one line, without the commands it names."""
    return " ".join(for_browser(str(err)).split()) or type(err).__name__


def for_browser(message: str) -> str:
    """A store's message without the commands it names (`run `python -m assistant …``): a
    browser user cannot run them; the console log keeps them."""
    return _COMMAND.sub("", message)
