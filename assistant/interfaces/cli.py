"""The command line: a thin shell over the library. `main(argv) -> int`, so tests run it in-process.

Every failure is one line on stderr and a non-zero exit code (1 for a problem with the input or
the index, 2 for a usage error), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from dataclasses import asdict

EXAMPLES = """examples:
  python -m assistant ask "How much did Huawei spend on R&D in 2018?"
  python -m assistant ask "Who is Ken Hu?" --json
  python -m assistant search "How much did Huawei spend on R&D?" -k 3
  python -m assistant search "Who is Ken Hu?" --json
  python -m assistant index add report.pdf notes/
  python -m assistant index rebuild documents/
  python -m assistant index info
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m assistant",
        description="Search your documents and get the passages that answer, with their sources.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    store_help = ("the store: an index folder, milvus:///abs/file.db (Milvus Lite) or milvus://host:19530 "
                  "(default: $ASSISTANT_INDEX_DIR or var/index, a copy of the shipped index/ at first)")
    parser.add_argument("--index", "--index-dir", dest="index_dir", help=store_help)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ask = commands.add_parser("ask", help="a cited answer, or a plain statement that the documents don't say")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=None, help="passages to answer from (default 5)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")

    search = commands.add_parser("search", help="ranked passages for a question")
    search.add_argument("question")
    search.add_argument("-k", type=int, default=None, help="number of passages (default 5)")
    search.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")

    index = commands.add_parser("index", help="build and inspect the index")
    verbs = index.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    add = verbs.add_parser("add", help="index new or changed files and folders (incremental)")
    add.add_argument("paths", nargs="+")
    rebuild = verbs.add_parser("rebuild", help="make the index hold exactly these paths (default: the recorded ones; for a new index, the default corpus)")
    rebuild.add_argument("paths", nargs="*")
    remove = verbs.add_parser("remove", help="drop documents from the index by their source path")
    remove.add_argument("sources", nargs="+")
    for verb in (add, rebuild, remove):
        verb.add_argument("--json", action="store_true", help="print the report as JSON")
    info = verbs.add_parser("info", help="what the index holds")
    info.add_argument("--json", action="store_true")
    for command in (ask, search, index, add, rebuild, remove, info):  # also after the command (or "index"), where people put it
        command.add_argument("--index", "--index-dir", dest="index_dir", default=argparse.SUPPRESS, help=store_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except _UsageError as err:
        print(err, file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    if args.index_dir is not None and not args.index_dir.strip():  # an unset shell variable: not the default index
        print("python -m assistant: --index: empty; give a folder path or a milvus:// address", file=sys.stderr)
        return 2
    try:
        return _run(args)
    except KeyboardInterrupt:
        if args.command == "index" and args.verb != "info":  # (a bare "interrupted" had left the index's state to guess)
            print("interrupted: an index is saved whole or not at all, so it holds what it held before this command "
                  "(or all of it, if it was being saved); run the command again to go on", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush does not fail again
        return 141
    except Exception as err:  # noqa: BLE001 - the CLI's contract is one line, never a traceback
        from assistant.answer.model import ModelError
        from assistant.ingest.documents import LoadError
        from assistant.store.snapshot import IndexProblem

        known = isinstance(err, (IndexProblem, LoadError, ModelError, ValueError, OSError))
        message = str(err) if known else f"unexpected error: {type(err).__name__}: {err}"
        from assistant.ingest.indexing import one_line

        message = one_line(message)  # all of it (a path may hold a line break), on one line
        print(f"error: {message[:1000]}{'…' * (len(message) > 1000)}", file=sys.stderr)
        return 1


def _run(args) -> int:
    from assistant.ingest import indexing
    from assistant.interfaces.render import title_and_file

    if args.command in ("ask", "search") and args.index_dir is None and args.question.strip():
        # the default index is made ready as the app does it: built when missing or outdated
        built = indexing.ensure_index(progress=True, say=lambda why: print(f"Building the index ({why}) …", file=sys.stderr))
        for source, reason in built.failed if built is not None else ():
            print(f"failed: {source}: {reason}", file=sys.stderr)
    if args.command == "ask":
        return _ask(args)
    if args.command == "search":
        hits = _search(args)
        if args.json:
            print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        elif not hits:
            print("No passages found.")
        for i, hit in enumerate(hits if not args.json else [], start=1):
            title = f"{_name(hit.title)} — " if title_and_file(hit)[1] else ""  # not when it is the file name again
            print(_shown(f"[{i}] {title}{_name(hit.label)}  (score {hit.score:.3f}, {_name(hit.source)}:{hit.start}-{hit.end})"))
            print("    " + _shown(" ".join(hit.text.split())))
        return 0

    if args.verb == "info":
        return _info(args)
    if args.verb == "add":
        report = indexing.add_documents(args.paths, args.index_dir, progress=True)
    elif args.verb == "rebuild":
        report = indexing.rebuild_index(args.paths or None, args.index_dir, progress=True)
    else:
        report = indexing.remove_documents(args.sources, args.index_dir)
    if getattr(args, "json", False):
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:  # the failures on stderr, the rest (what was done, what was passed over) on stdout
        for line in report.summary().split("\n"):  # each part is one line (`indexing.one_line`)
            print(_shown(line), file=sys.stderr if line.startswith("failed: ") else sys.stdout)
    return 1 if report.failed else 0  # the other paths are still indexed, but a script must see the failure


def _search(args) -> list:
    """The passages for `args.question`, saying (as `ask` does) how its typing slips were read."""
    from assistant.answer.answering import stale_note
    from assistant.answer.prompts import READ_AS
    from assistant.config import Settings
    from assistant.ingest.embeddings import default_embedder
    from assistant.search import retrieval

    retrieval.checked_question(args.question)  # before the index is loaded
    settings = Settings.from_env()
    searcher = retrieval.searcher_for(args.index_dir or settings.index_dir, settings, default_embedder(settings))
    hits = retrieval.retrieve(args.question, k=args.k, mode=args.mode, searcher=searcher)
    if (read := searcher.spelled(args.question)) != args.question:
        print(f"note: {READ_AS.format(question=read)}", file=sys.stderr)
    if stale := stale_note([h.source for h in hits], searcher.index):  # as `ask` says of what it quotes
        print(f"note: {_shown(stale)}", file=sys.stderr)
    return hits


# Characters of documents, file names and replies that a terminal would act on (escape sequences,
# a bell, direction overrides that reorder what follows) are written as escapes; line ends as \n.
_SHOWN_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\n\t"}
_SHOWN_CONTROLS.update({c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
_LINE_END = re.compile(r"\r\n?")


def _shown(text: str) -> str:
    """`text` safe to print on a terminal (see `_SHOWN_CONTROLS`)."""
    return _LINE_END.sub("\n", text).translate(_SHOWN_CONTROLS)


def _name(name: str) -> str:
    """A file name (or a label holding one) on its one line: its line breaks as escapes (a name
    may hold them, and had broken a hit's or a file's line in two)."""
    from assistant.ingest.indexing import one_line

    return one_line(name)


def _ask(args) -> int:
    from assistant.answer.answering import ask
    from assistant.answer.prompts import READ_AS, RELATED_HEADING, UNSURE
    from assistant.ingest.chunking import page_name
    from assistant.interfaces.render import title_and_file

    streamed = []

    def on_token(piece: str) -> None:  # only called when a language model is configured
        # The model's draft, unchecked, goes to stderr (stdout holds only the checked answer), its
        # control characters written as escapes (a reply may carry terminal escape sequences)
        if not args.json:
            streamed.append(piece)
            print(_shown(piece), end="", file=sys.stderr, flush=True)

    answer = ask(args.question, k=args.k, index_dir=args.index_dir, on_token=on_token)
    if args.json:
        data = asdict(answer)
        data["related"] = [asdict(h) for h in answer.related]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    if streamed:
        print("\n", file=sys.stderr)
        if answer.text != "".join(streamed).strip():
            print("note: the draft above was checked against the passages; the answer below is what holds", file=sys.stderr)
    if answer.read_as:
        print(f"note: {READ_AS.format(question=answer.read_as)}", file=sys.stderr)
    if answer.notice:
        print(f"note: {answer.notice}", file=sys.stderr)
    if answer.unsure:
        print(f"note: {UNSURE}", file=sys.stderr)
    print(_shown(_readable(answer)))
    if answer.abstained:
        if answer.related:
            print(f"\n{RELATED_HEADING}")
        closest = {c.n: c.quote for c in answer.closest}
        for i, hit in enumerate(answer.related, start=1):  # by the sentence closest to an answer, where one was read
            print(_shown(f"  - {_name(hit.label)}: " + (f"\u201c{_clip(closest[i])}\u201d" if i in closest else _clip(hit.text))))
        return 0
    print()
    shown = set()
    for c in answer.citations:
        key = (c.n, c.quote_start)
        if key in shown:
            continue
        shown.add(key)
        where = page_name(c.hit.source, c.hit.page) if c.hit.page is not None else f"chars {c.quote_start}-{c.quote_end}"
        title = f"{_name(c.hit.title)} — " if title_and_file(c.hit)[1] else ""
        print(_shown(f"[{c.n}] {title}{_name(c.hit.source)} ({_name(where)}): \u201c{_clip(c.quote)}\u201d"))
    return 0


def _readable(answer) -> str:
    """An answer as the terminal shows it: an extractive one's quotes of prose with their spacing
    tidied (`extractive.cited_text`); any other as it is (`--json` gives the verbatim text)."""
    from assistant.answer.extractive import cited_text

    return cited_text(answer.citations, tidy=True) if answer.citations and answer.text == cited_text(answer.citations) else answer.text


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    from assistant.ingest.chunking import grapheme_start

    return text if len(text) <= limit else text[: grapheme_start(text, 0, limit - 1)] + "\u2026"  # (never half a character as read)


def _info(args) -> int:
    from assistant.config import Settings
    from assistant.store import open_store

    settings = Settings.from_env()
    index_dir = args.index_dir or settings.index_dir
    index = open_store(index_dir, settings).load()
    m = index.manifest
    data = {
        "index_dir": str(index_dir),
        "generation": index.generation,
        "format_version": m.format_version,
        "model": m.model,
        "dimension": m.dimension,
        "chunk_size": m.chunk_size,
        "chunk_overlap": m.chunk_overlap,
        "chunks": len(index.chunks),
        "sentences": len(index.keys),
        "created": m.created,
        "roots": list(m.roots),
        "excluded": [source for source in m.excluded if os.path.lexists(source)],  # a vanished one is inert, and dropped at the next save
        "files": [asdict(f) for f in m.files],
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['index_dir']}: {data['chunks']} chunks ({data['sentences']} sentence vectors) from "
          f"{len(m.files)} files; {m.model} ({m.dimension}-d); chunks {m.chunk_size}/{m.chunk_overlap} chars; "
          f"format {m.format_version}; built {m.created}")
    for f in m.files:
        print(_shown(f"  {_name(f.source)}  {f.chunks} chunks  added {f.added}  sha256 {f.sha256[:12]}"))
    for source in data["excluded"]:
        print(_shown(f"  {_name(source)}  left out: removed on request (index add {_name(shlex.quote(source))} brings it back)"))
    return 0
