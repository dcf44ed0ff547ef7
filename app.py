"""The browser chat: `python app.py` serves it on http://127.0.0.1:7860 (only this machine).

Two tabs. **Chat**: questions answered from the indexed documents, every sentence followed by a
marker `[n]` that links to its source (file, page or paragraph, the passage with the quoted
sentence highlighted); follow-up questions use the conversation; a question the documents do not
answer gets the refusal phrase and the closest passages, styled as a refusal. **Documents**: the
indexed files; upload more (saved into the corpus folder and indexed incrementally) or remove one.

Endpoints for programs (`gradio_client`): `/ask`, `/retrieve`, `/chat` (the chat itself),
`/add_documents`, `/remove_document`; see `api_ask` and `api_retrieve` for the return shapes.

The UI is built in `build()`; `demo` is module-level so `gradio app.py` reloads work. Heavy state
lives in one `Service`: the index is checked, built if missing or unusable, and warmed once, in
the background, while the page is already served with a status line. HTML comes from
`assistant/interfaces/render.py`, which escapes everything that comes from a document, a file name or a model.
"""

from __future__ import annotations

import argparse
import errno
import os
import queue
import sys
import threading
import time
from pathlib import Path

from assistant.interfaces import render  # (importing assistant sets the offline environment before Gradio)
from assistant.config import HOST, MIB, PROJECT_DIR, SUPPORTED_SUFFIXES, Settings
from assistant.answer.followup import history_pairs
from assistant.interfaces.service import Service, browser_line, for_browser
from assistant.search.retrieval import checked_question

import gradio as gr  # noqa: E402

EXAMPLES = [
    "How much did Huawei spend on R&D in 2018?",
    "Who is Ken Hu?",
    "What did Ken Hu say about the EU's cybersecurity work?",
    "What is this article about?",  # an overview: its opening sentences
]
MAX_K = 20  # most passages /retrieve returns
DEFAULT_K = 5  # what /retrieve returns when no k is given


# --- the UI ----------------------------------------------------------------------------------

def build(service: Service | None = None) -> gr.Blocks:
    """The two-tab UI over `service` (default: one from the environment's settings)."""
    service = service or Service()
    settings = service.settings

    def api_ask(question: str, history: list | str | None = None) -> dict:
        """Answer a question from the documents.

        history: earlier turns, oldest first, as [[question, answer], ...] or chat messages
        [{"role": "user", "content": ...}, ...] (a JSON string of either is accepted too).
        Returns {text, abstained, citations: [{n, quote, quote_start, quote_end, source, label,
        page, start, end, passage}], related: [hit], closest: [{n, quote, quote_start, quote_end}] (when
        abstaining: each related passage's sentence closest to an answer), notice, method, confidence,
        unsure, read_as, query}."""
        question = _question(question)
        try:
            pairs = history_pairs(history)
        except ValueError as err:  # includes malformed JSON
            raise refuse(f"history: {err}") from None
        return render.answer_json(service.ask(question, pairs))

    def api_retrieve(question: str, k: int = DEFAULT_K) -> list[dict]:
        """The k passages that best match the question, best first: [{text, source, start, end,
        page, score, label, chunk_id, position, title}]."""
        question = _question(question)
        k = DEFAULT_K if k is None else k  # None: what a plain HTTP call sends for the default
        try:
            whole = int(k)
            if isinstance(k, bool) or whole != float(k):  # 2.7 was read as 2
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise refuse(f"k={k!r}: must be a whole number") from None
        k = whole
        if not 1 <= k <= MAX_K:
            raise refuse(f"k={k}: must be between 1 and {MAX_K}")
        return [render.hit_json(h) for h in service.retrieve(question, k)]

    def chat(message: str, messages: list, pairs: list):
        """The chat: shows the question, then the answer (streamed when a language model is set)."""
        messages, pairs = list(messages or []), list(pairs or [])
        question = (message or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield messages, "", pairs
            return
        replies = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
        earlier = sum(1 for m in replies if not render.is_note(m.get("content")))  # answered turns (not errors)
        turn, pairs = len(replies) + 1, pairs[-earlier:] if earlier else []  # a cleared chat starts afresh
        if earlier and not pairs:
            pairs = conversation(messages)  # a call without the page's session (plain HTTP)
        messages.append({"role": "user", "content": render.question_html(question)})
        waiting = "Searching the documents …" if service.ready.is_set() else f"Waiting for the index: {for_browser(service.status)}"
        messages.append({"role": "assistant", "content": render.note_html(waiting)})
        yield messages, "", pairs
        try:
            for partial, answer in _answer_stream(service, question, pairs):
                if answer is None:
                    messages[-1] = {"role": "assistant", "content": render.streaming_html(partial)}
                    yield messages, "", pairs
        except Exception as err:  # noqa: BLE001 - one line in the chat, not a traceback
            messages[-1] = {"role": "assistant", "content": render.note_html(_one_line(err), "error")}
            yield messages, message, pairs  # the question stays in the box, to be mended
            return
        messages[-1] = {"role": "assistant", "content": render.answer_html(answer, turn)}
        yield messages, "", pairs + [(question, answer.text)]

    def upload(files, replace=False, request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        named = [f if isinstance(f, tuple) else (str(f), Path(str(f)).name) for f in (files or [])]
        # files chosen while an upload was indexed come with those chosen before (the box holds
        # them all): those an earlier upload handled are not read again ("cannot read the upload")
        named = [(path, name) for path, name in named if not handled_upload(path)]
        if not named:
            return None, gr.skip(), *_documents_view()
        progress(0, desc="Checking and indexing …")
        try:
            lines = service.add_files(named, progress=True, replace=bool(replace),
                                      session=getattr(request, "session_hash", None))
        finally:
            forget_uploads([path for path, _ in named], uploader.GRADIO_CACHE)
        return None, render.result_html(lines), *_documents_view()

    def cancel_upload(request: gr.Request = None):
        """Cancel this session's upload being indexed (another session's is not this one's to cancel)."""
        return render.note_html(service.cancel_indexing(getattr(request, "session_hash", None)), "result")

    def remove(source: str):
        line = service.remove(source or "")
        return render.note_html(line, "result"), *_documents_view()

    def _documents_view():
        files = service.files()
        # the documents the table draws (one choice per document had sent 3.8 MB for 32,000); any
        # other indexed source can be typed in (allow_custom_value)
        choices = render.removal_choices(files, PROJECT_DIR)
        return render.documents_html(files, PROJECT_DIR), gr.Dropdown(choices=choices, value=None), service.status_line()

    def tick(shown: str):
        """The status every second while the index is prepared or an upload indexed (by any
        session), every 10 s otherwise: another session's upload changes it too. Where the indexed
        documents changed since this page's table last showed them (`shown`), the table too (a
        page reloaded while its upload was indexed, or another session's upload, had left it as it was)."""
        busy = not service.ready.is_set() or service.indexing
        line, files = service.status_line(), service.files()
        timer = gr.Timer(1.0 if busy else 10.0, active=True)
        # what the table shows (the counts alone are alike for two different documents)
        mark = str(hash(tuple((f.source, f.sha256, f.chunks, f.added, f.updated) for f in files)))  # all the table draws
        if mark == shown:
            return line, timer, gr.skip(), gr.skip(), mark
        choices = render.removal_choices(files, PROJECT_DIR)  # the choice made stays, where it is still one
        return line, timer, render.documents_html(files, PROJECT_DIR), gr.Dropdown(choices=choices), mark

    with gr.Blocks(title="Document assistant", analytics_enabled=False) as demo:
        gr.Markdown("## Document assistant\nAnswers from your documents, each sentence citing its passage.")
        status = gr.Markdown(elem_id="status")  # filled on load, then by the timer
        timer = gr.Timer(1.0, active=True)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    elem_id="chatbot",
                    label="Chat",
                    show_label=False,
                    height="62vh",
                    render_markdown=False,  # answers are HTML built by render.py, escaped there
                    sanitize_html=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    feedback_options=None,
                    buttons=[],  # Gradio's copy button copies a message's HTML, not its text
                    placeholder="Ask a question about the indexed documents, or pick an example.",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                chatbot.data_model = plain_text_messages(chatbot.data_model)
                pairs = gr.State([])
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask about your documents …", label="Your question", show_label=False, scale=8,
                        autofocus=True, submit_btn="Ask", elem_id="question",
                    )
                    new_chat = gr.Button("New chat", scale=1, size="sm")
            with gr.Tab("Documents", id="documents") as documents_tab:
                gr.Markdown("### Indexed documents")
                table = gr.HTML(elem_id="documents")
                uploader = local_uploads_only(with_original_names(gr.File(
                    label=f"Add documents ({', '.join(SUPPORTED_SUFFIXES)}; up to {settings.max_file_mb:g} MiB each)",
                    file_count="multiple", type="filepath", elem_id="upload",
                )))
                with gr.Row():
                    replace = gr.Checkbox(label="Replace documents with the same name", value=False, elem_id="replace", scale=4)
                    cancel = gr.Button("Cancel indexing", size="sm", scale=1, elem_id="cancel-upload")
                upload_result = gr.HTML(elem_id="upload-result")
                with gr.Row():
                    to_remove = gr.Dropdown(
                        label="Remove a document", choices=[], allow_custom_value=True, scale=4, elem_id="remove-choice"
                    )
                    remove_button = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")
                remove_result = gr.HTML(elem_id="remove-result")

        answer_group = dict(concurrency_id="answer", concurrency_limit=4)
        chat_io = dict(inputs=[box, chatbot, pairs], outputs=[chatbot, box, pairs])
        # the conversation survives a reload of the page (it had been lost without a word): kept in
        # this browser's storage, encrypted with a key of this server run, restored when the page loads
        kept = gr.BrowserState([[], []], storage_key="assistant-conversation")
        keep = dict(fn=to_keep, inputs=[chatbot, pairs], outputs=kept, api_visibility="private", queue=False)
        box.submit(chat, **chat_io, api_name="chat", show_progress="hidden", **answer_group).then(**keep)
        chatbot.example_select(_example_text, None, box, api_visibility="private", queue=False).then(
            chat, **chat_io, api_visibility="private", show_progress="hidden", **answer_group
        ).then(**keep)
        new_chat.click(lambda: ([], "", []), None, [chatbot, box, pairs], api_visibility="private", queue=False).then(**keep)
        chatbot.clear(lambda: [], None, pairs, api_visibility="private", queue=False).then(**keep)
        demo.load(restored, kept, [chatbot, pairs], api_visibility="private", queue=False)
        shown = gr.State("")  # which documents this page's table shows (tick's mark)
        timer.tick(tick, shown, [status, timer, table, to_remove, shown], api_visibility="private", queue=False)

        writer = dict(concurrency_id="writer", concurrency_limit=1)
        documents_outputs = [table, to_remove, status]
        # the status follows an upload at once (the timer had still been at its idle 10 s: "ready" for seconds)
        uploader.upload(lambda: gr.Timer(1.0, active=True), None, timer, api_visibility="private", queue=False)
        # "multiple": files chosen while an upload is indexed are indexed after it (by default a
        # second upload while one is pending was dropped without a word)
        uploader.upload(upload, [uploader, replace], [uploader, upload_result, *documents_outputs], api_name="add_documents",
                        show_progress_on=[upload_result], trigger_mode="multiple", **writer).then(  # one progress bar, not one over every output
            None, None, None, js=render.FOCUS_UPLOAD_RESULT, queue=False, api_visibility="private")
        cancel.click(cancel_upload, None, upload_result, api_name="cancel_indexing", queue=False)
        remove_button.click(remove, to_remove, [remove_result, *documents_outputs], api_name="remove_document",
                            show_progress_on=[remove_result], **writer)
        documents_tab.select(_documents_view, None, documents_outputs, api_visibility="private", queue=False)
        demo.load(_documents_view, None, documents_outputs, api_visibility="private", queue=False)

        gr.api(api_ask, api_name="ask", **answer_group)
        gr.api(api_retrieve, api_name="retrieve", **answer_group)
    return demo


def plain_text_messages(messages_model):
    """The chat's message model, also taking a message whose content is plain text, as the
    OpenAI-style messages `/ask` takes write it ({"role": "user", "content": "Who?"}): `/chat` had
    answered them with pydantic's multi-line report, before the app read them. Such content is
    read as the one text part Gradio's own messages hold."""
    from pydantic import model_validator

    class Messages(messages_model):
        @model_validator(mode="before")
        @classmethod
        def _text_parts(cls, data):
            if not isinstance(data, list):
                return data
            return [{**m, "content": [{"type": "text", "text": m["content"]}]}
                    if isinstance(m, dict) and isinstance(m.get("content"), str) else m for m in data]

    return Messages


LOGIN_FILE_MOST = 4096  # bytes: a login file holds one USER:PASSWORD line


def _login_file(path: Path, parser) -> str:
    """The login in `path`, as one line: a byte-order mark (Notepad's UTF-8) left out, where it had
    become part of the user name and made every login fail; a file that is not a regular one (a
    pipe had waited for ever, /dev/zero filled the memory) or too large refused."""
    import stat

    where = f"--auth-file {path}"
    try:
        # (opened without waiting: opening a pipe nobody writes to waits for a writer)
        with open(os.open(path.expanduser(), os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                parser.error(f"{where}: not a regular file; give a file holding USER:PASSWORD")
            data = file.read(LOGIN_FILE_MOST + 1)
        if len(data) > LOGIN_FILE_MOST:
            parser.error(f"{where}: larger than {LOGIN_FILE_MOST:,} bytes; expected one USER:PASSWORD line")
        return data.decode("utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as err:
        parser.error(f"{where}: cannot read it ({getattr(err, 'strerror', None) or err})")


_HANDLED: dict[str, None] = {}  # Gradio's cached upload paths already added or refused (and deleted), oldest first
HANDLED_KEPT = 10_000


def handled_upload(path: str) -> bool:
    """Whether an earlier upload already added or refused the cached file `path` (and deleted it)."""
    return os.path.realpath(path) in _HANDLED and not os.path.exists(path)


def forget_uploads(paths: list[str], cache: str) -> None:
    """Delete Gradio's cached copies of uploaded files (and their folders, once empty) after they
    were added or refused: the corpus folder holds what was added, and a removed document's text
    had stayed in Gradio's cache, even after the server stopped (hostile-input audit). Each is
    remembered as handled (`handled_upload`)."""
    cache = os.path.realpath(cache)
    for path in paths:
        path = os.path.realpath(path)
        if os.path.commonpath([path, cache]) != cache or path == cache:
            continue  # not Gradio's (a path the app was given some other way): never deleted
        _HANDLED[path] = None
        while len(_HANDLED) > HANDLED_KEPT:
            del _HANDLED[next(iter(_HANDLED))]
        try:
            os.remove(path)
            os.rmdir(os.path.dirname(path))  # Gradio keeps each upload in a folder of its own
        except OSError:
            pass  # gone already, or the folder holds another file


def local_uploads_only(uploader: gr.File) -> gr.File:
    """`uploader`, refusing a file given as a web address: Gradio downloads one named in an API
    call's file data ("path": "http://…") before the app sees it, so any caller could make the
    server fetch any public address (hostile-input audit); the README promises that no request
    leaves the machine."""
    from gradio_client.utils import is_http_url_like

    def refuse(url_or_file_path):
        if url_or_file_path is not None and is_http_url_like(str(url_or_file_path)):
            raise gr.Error(f"{str(url_or_file_path)[:200]}: a web address; upload the file itself (the server fetches nothing)",
                           print_exception=False)

    move, move_async = uploader.move_resource_to_block_cache, uploader.async_move_resource_to_block_cache

    def local(url_or_file_path):
        refuse(url_or_file_path)
        return move(url_or_file_path)

    async def local_async(url_or_file_path):
        refuse(url_or_file_path)
        return await move_async(url_or_file_path)

    uploader.move_resource_to_block_cache, uploader.async_move_resource_to_block_cache = local, local_async
    return uploader


def with_original_names(uploader: gr.File) -> gr.File:
    """`uploader`, giving each file as (its path in Gradio's cache, the name it had on the user's
    machine). Gradio's cached copy is renamed to what its own rules allow ("a\\nb.txt" became
    "a%0Ab.txt", "../../evil.txt" "evil.txt"), so the app's name checks (`corpus.safe_document_name`:
    paths, control characters, reserved names refused with a reason) read the name given. (Its
    `preprocess` is wrapped, not overridden in a subclass: Gradio writes a .pyi beside the module
    of every component class.)"""
    preprocess = uploader.preprocess

    def named(payload):
        paths = preprocess(payload)
        if payload is None or paths is None:
            return paths
        files = list(getattr(payload, "root", None) or [payload])
        paths = paths if isinstance(paths, list) else [paths]
        return [(str(path), f.orig_name or Path(str(path)).name) for path, f in zip(paths, files)]

    uploader.preprocess = named
    return uploader


def _answer_stream(service: Service, question: str, pairs: list):
    """Yields (partial text, None) while a language model streams, then ("", the Answer)."""
    if not service.settings.llm_base_url:
        yield "", service.ask(question, pairs)
        return
    tokens: queue.Queue = queue.Queue()
    result: dict = {}

    def work():
        try:
            result["answer"] = service.ask(question, pairs, on_token=tokens.put)
        except BaseException as err:  # noqa: BLE001 - re-raised in the generator
            result["error"] = err
        finally:
            tokens.put(None)

    threading.Thread(target=work, name="answer", daemon=True).start()
    partial, last = "", 0.0
    while (piece := tokens.get()) is not None:
        partial += piece
        if time.monotonic() - last > 0.05:
            last = time.monotonic()
            yield partial, None
    if "error" in result:
        raise result["error"]
    yield "", result["answer"]


KEPT_TURNS = 20  # turns of a conversation kept for a reload (the browser's storage holds a few MB; an answer with its passages, tens of kB)


def to_keep(messages: list, turns: list) -> list:
    """What a reload restores (`restored`): the conversation's last KEPT_TURNS questions with their
    replies, and its last KEPT_TURNS answered turns."""
    asked = [i for i, m in enumerate(messages or []) if isinstance(m, dict) and m.get("role") == "user"]
    first = asked[-KEPT_TURNS] if len(asked) > KEPT_TURNS else 0
    return [list(messages or [])[first:], list(turns or [])[-KEPT_TURNS:]]


def restored(kept) -> tuple[list, list]:
    """The chat messages and answered turns a reloaded page kept (`gr.BrowserState`); none where
    what is stored is not that (another version's, or tampered with)."""
    if (isinstance(kept, list) and len(kept) == 2 and all(isinstance(part, list) for part in kept)
            and all(isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in kept[0])):
        return kept[0], [tuple(turn) for turn in kept[1] if isinstance(turn, (list, tuple)) and len(turn) == 2]
    return [], []


def _example_text(event: gr.SelectData) -> str:
    return event.value["text"]


def _question(question) -> str:
    try:
        return checked_question(question).strip()
    except ValueError as err:
        raise refuse(str(err)) from None


def conversation(messages: list) -> list[tuple[str, str]]:
    """The (question, answer) pairs of a chat's messages as the page renders them, without the
    questions answered by an error. The page keeps its pairs in its session; a call without one
    (plain HTTP, a new session each call) brings the conversation in its messages only, which had
    been shown and not read: a follow-up was asked alone."""
    shown = [m for m in messages if isinstance(m, dict)]
    # a question the chat answered with an error (too long, the index busy) is no turn of the conversation
    failed = {i for i, m in enumerate(shown) if m.get("role") == "assistant" and render.is_note(m.get("content"))}
    failed |= {i - 1 for i in failed if i > 0 and shown[i - 1].get("role") == "user"}
    try:
        return history_pairs([{"role": m.get("role"), "content": render.message_text(m.get("content"))}
                              for i, m in enumerate(shown) if i not in failed])
    except ValueError as err:
        raise refuse(f"messages: {err}") from None


def refuse(message: str) -> gr.Error:
    """A rejected API input: one line in the server log, the message to the caller, no traceback."""
    print(f"refused request: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


def _one_line(err: Exception) -> str:
    return f"Error: {browser_line(err)}"


try:
    SERVICE = Service()
except ValueError as _err:  # a bad ASSISTANT_* variable: one line, not a traceback
    if __name__ == "__main__":
        raise SystemExit(f"app.py: {_err}") from None
    raise
demo = build(SERVICE)


# --- command line ----------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Serve the document chat (and its API) on this machine.",
        epilog="examples:\n  python app.py\n  python app.py --port 8080\n"
        "  python app.py --host 0.0.0.0 --auth-file ~/.assistant-login   # reachable from the network;\n"
        "      the file holds one line USER:PASSWORD (or set ASSISTANT_AUTH)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    try:
        settings = Settings.from_env()
    except ValueError as err:
        parser.error(str(err))
    parser.add_argument("--index", default=settings.index_dir, metavar="STORE",
                        help="the store: an index folder, milvus:///abs/file.db (Milvus Lite) or milvus://host:19530 "
                        "(default: env ASSISTANT_INDEX_DIR, else var/index); built from the corpus if empty")
    parser.add_argument("--host", default=settings.host,
                        help="address to bind (default 127.0.0.1, env ASSISTANT_HOST); beyond this machine "
                        "a login is required unless --no-auth is given")
    parser.add_argument("--port", type=int, default=settings.port,
                        help="port (default 7860, env ASSISTANT_PORT)")
    parser.add_argument("--auth", default=settings.auth or None, metavar="USER:PASSWORD",
                        help="require this login (env ASSISTANT_AUTH; prefer --auth-file: `ps` shows arguments)")
    parser.add_argument("--auth-file", type=Path, metavar="PATH",
                        help="read the login (one line USER:PASSWORD) from this file")
    parser.add_argument("--no-auth", action="store_true",
                        help="serve beyond this machine without a login (anyone who can reach the port "
                        "can upload and delete documents)")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv

    def named(flag: str, variable: str) -> str:
        """Where a value came from, as the user gave it: the flag, else the environment variable."""
        return flag if any(a == flag or a.startswith(flag + "=") for a in given) or variable not in os.environ else variable

    if not 1 <= args.port <= 65535:
        parser.error(f"--port {args.port}: expected a port from 1 to 65535")
    try:
        from assistant.store import open_store

        args.index = open_store(args.index).name
    except ValueError as err:
        parser.error(f"--index: {err}")
    if args.auth_file is not None:
        args.auth = _login_file(args.auth_file, parser)
    if args.auth is not None:
        user, sep, password = args.auth.partition(":")
        if not (user and sep and password) or "\n" in args.auth:
            where = f"--auth-file {args.auth_file}" if args.auth_file is not None else named("--auth", "ASSISTANT_AUTH")
            parser.error(f"{where}: expected USER:PASSWORD")
        args.auth = (user, password)
    host = named("--host", "ASSISTANT_HOST")
    host = f"{host} {args.host}" if host.startswith("--") else f"{host}={args.host}"
    if not HOST.fullmatch(args.host):  # before the login rule, which would ask a login for a typo
        parser.error(f"{host}: not a host name or IP address")
    if args.auth is None and not args.no_auth and not is_loopback(args.host):
        parser.error(f"{host}: serving beyond this machine needs a login (--auth-file PATH or "
                     "ASSISTANT_AUTH=USER:PASSWORD), or --no-auth to serve without one")
    return args


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Login:
    """The login check handed to Gradio: constant-time comparison, and each failed attempt in a
    row is answered later than the last (0.5 s doubling to `max_delay`), which slows guessing.
    Failed attempts are answered one after another, each its wait after the last (200 guesses sent
    at once had all been answered in 8 s); a right one is answered at once. The wait is
    asynchronous: other users of the server are not held up by it."""

    def __init__(self, user: str, password: str, max_delay: float = 8.0):
        self._user, self._password = user.encode(), password.encode()
        self.max_delay = max_delay
        self.failures = 0
        self.free_at = 0.0  # when the last failed attempt waiting is answered (time.monotonic)

    def attempt(self, user: str, password: str) -> tuple[bool, float]:
        """Whether the login is right, and how long to wait before saying so."""
        import hmac

        ok = hmac.compare_digest(str(user).encode(), self._user) & hmac.compare_digest(str(password).encode(), self._password)
        self.failures = 0 if ok else self.failures + 1
        return bool(ok), 0.0 if ok else min(self.max_delay, 0.5 * 2 ** (self.failures - 1))

    def gradio_auth(self):
        import asyncio

        async def check(user: str, password: str) -> bool:
            ok, delay = self.attempt(user, password)
            if ok:
                return True  # at once, whatever guesses are waiting
            # each failed attempt is answered `delay` after the one before it, so guesses sent at
            # once wait in turn (a lock had kept the right password waiting behind them)
            now = time.monotonic()
            self.free_at = max(now, self.free_at) + delay
            await asyncio.sleep(self.free_at - now)
            return False

        return check


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served (one line naming --port), or None when it is free."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # as the server binds: a port whose last connections are still closing (TIME_WAIT) can
            # be served at once, while one another program listens on stays refused
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        if isinstance(err, socket.gaierror) or err.errno == errno.EADDRNOTAVAIL:  # the host, not the port
            return f"app.py: host {host} is not an address of this machine ({err.strerror or err}); start with --host ADDRESS"
        busy = err.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE))
        reason = "is already in use" if busy else f"cannot be used ({err.strerror or err})"
        return f"app.py: port {port} on {host} {reason}; start with --port N to use another"
    return None


def launch_options(args: argparse.Namespace, settings: Settings) -> dict:
    """Everything passed to `launch()`: private by default, styled, uploads capped."""
    return dict(
        server_name=args.host,
        server_port=args.port,
        auth=Login(*args.auth).gradio_auth() if args.auth else None,
        share=False,
        ssr_mode=False,
        show_error=True,
        max_file_size=int(settings.max_file_mb * MIB),  # the browser refuses larger files, in the same unit
        footer_links=["api", "settings"],
        css=render.CSS,
        head=render.HEAD,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = port_problem(args.host, args.port)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.index != SERVICE.settings.index_dir:
        SERVICE.use(SERVICE.settings.replace(index_dir=args.index))
    SERVICE.start()
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(**launch_options(args, SERVICE.settings))
    except OSError as err:  # the port was taken between the check and the launch
        print(port_problem(args.host, args.port) or f"app.py: cannot serve on {args.host}:{args.port} ({err})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
