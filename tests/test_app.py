"""The browser chat's server side (`app.py`).

Fast tests run the upload / remove logic in-process on the HashEmbedder: unsafe names, refused
types and failed uploads leave the corpus folder and the index as they were. Slow tests start the
real server (`python app.py --port N`) on a temporary corpus whose index it must build at start,
and call its API with gradio_client. `Server` is reused by tests/test_browser.py.
"""

from __future__ import annotations

import html
from html import unescape
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.interfaces.corpus import UploadRefused, safe_document_name
from assistant.ingest.indexing import EXCLUDED
from assistant.answer.prompts import NO_ANSWER
from tests.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "documents" / "000_6925d6d02227fd72.txt"
ARTIFACTS = ROOT / "test-artifacts"
RD_QUESTION = "How much did Huawei spend on research and development in 2018?"
UNANSWERABLE = "What is the capital of France?"


# --- a real server in a subprocess ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python app.py` on a free port, with its own index, corpus and Gradio cache folders."""

    def __init__(self, workdir: Path, *args: str, env: dict | None = None):
        self.workdir = workdir
        self.index_dir, self.corpus_dir = workdir / "index", workdir / "corpus"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / "server.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        self.env = {
            **clean,
            "ASSISTANT_INDEX_DIR": str(self.index_dir),
            "ASSISTANT_CORPUS_DIR": str(self.corpus_dir),
            "GRADIO_TEMP_DIR": str(workdir / "gradio"),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.args = [sys.executable, str(ROOT / "app.py"), "--port", str(self.port), *args]
        self.process: subprocess.Popen | None = None
        self.served_after: float | None = None

    def start(self, timeout: float = 120.0) -> "Server":
        began = self.started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        while time.perf_counter() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        self.served_after = time.perf_counter() - began
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"app.py did not serve {self.url} within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, **kwargs):
        from gradio_client import Client

        return Client(self.url, verbose=False, **kwargs)


def corpus_with_article(workdir: Path) -> Path:
    corpus = workdir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTICLE, corpus / ARTICLE.name)
    return corpus


def record_timing(name: str, seconds: float) -> None:
    """Keep measured figures in test-artifacts/timings.json (read by whoever reports them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "timings.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data[name] = round(seconds, 3)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a corpus with the article and *no index*: it must build one at start."""
    workdir = tmp_path_factory.mktemp("app")
    corpus_with_article(workdir)
    srv = Server(workdir).start()
    record_timing("served_after_s (index missing, built in background)", srv.served_after)
    try:
        job = srv.client().submit("Who is Ken Hu?", [], api_name="/chat")  # waits until the index is built
        messages, _ = job.result(timeout=120)
        record_timing("first_answer_after_s (index built at start)", time.perf_counter() - srv.started)
        srv.first_chat = [output[0][-1]["content"][0]["text"] for output in job.outputs()]
        assert "Ken Hu" in messages[-1]["content"][0]["text"]
        yield srv
    finally:
        srv.stop()


# --- the real server ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_missing_index_is_built_at_start_with_a_visible_status(server):
    log = server.log()
    assert "Building the index from" in log and "no index yet" in log
    assert "1 added" in log and "Index ready, loaded in" in log
    assert (server.index_dir / "CURRENT").exists()
    # A question asked meanwhile said what it was waiting for, then got its answer.
    assert "Waiting for the index: Building the index from" in html.unescape(server.first_chat[0])
    assert "qa-answer" in server.first_chat[-1]
    assert "* Running on local URL:  http://127.0.0.1:" in log  # bound to this machine only


@pytest.mark.slow
def test_the_app_serves_a_milvus_lite_store_built_from_the_corpus_at_start(tmp_path):
    """`python app.py --index milvus:///abs/file.db`: an empty Milvus Lite store is built from the
    corpus at start, then answers with a verbatim citation; uploads go into the same store."""
    corpus_with_article(tmp_path)
    store = f"milvus://{tmp_path / 'store.db'}"
    srv = Server(tmp_path, "--index", store).start()
    try:
        client = srv.client()
        result = client.predict(RD_QUESTION, api_name="/ask")
        assert not result["abstained"] and "14.6 billion" in result["text"], result
        text = ARTICLE.read_text("utf-8-sig")
        for c in result["citations"]:
            assert text[c["quote_start"]:c["quote_end"]] == c["quote"]
        log = srv.log()
        assert f"no index yet; run `python -m assistant --index {store} index add PATH`" in log
        assert "1 added" in log and "Index ready" in log and f"({store})" in log
        assert not srv.index_dir.exists()  # the FAISS default was not touched
    finally:
        srv.stop()


@pytest.mark.slow
def test_ask_answers_with_a_citation_whose_quote_holds_the_answer(server):
    result = server.client().predict(RD_QUESTION, api_name="/ask")
    json.dumps(result)  # JSON-serialisable as it is
    assert not result["abstained"], result
    assert "14.6 billion" in result["text"]
    assert any("14.6 billion" in c["quote"] for c in result["citations"])
    for c in result["citations"]:
        assert c["passage"][c["quote_start"] - c["start"] : c["quote_end"] - c["start"]] == c["quote"]
        assert c["label"].startswith(ARTICLE.name) and c["source"].endswith(ARTICLE.name)
    assert result["method"] == "extractive" and result["related"] == []


@pytest.mark.slow
def test_a_question_the_article_does_not_answer_is_refused_with_related_passages(server):
    result = server.client().predict(UNANSWERABLE, api_name="/ask")
    assert result["abstained"] is True
    assert result["text"] == NO_ANSWER and result["citations"] == []
    assert result["related"] and all(r["text"] for r in result["related"])


@pytest.mark.slow
def test_ask_uses_the_history_it_is_given(server):
    client = server.client()
    first = client.predict("Who is Ken Hu?", api_name="/ask")
    follow = "What did he say about the EU's cybersecurity work?"
    pairs = client.predict(follow, [["Who is Ken Hu?", first["text"]]], api_name="/ask")
    messages = client.predict(follow, json.dumps([{"role": "user", "content": "Who is Ken Hu?"},
                                                  {"role": "assistant", "content": first["text"]}]), api_name="/ask")
    for result in (pairs, messages):
        assert not result["abstained"] and "great job" in result["text"]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="history"):
        client.predict(follow, "[not json", api_name="/ask")


@pytest.mark.slow
def test_retrieve_returns_hits_with_provenance(server):
    from gradio_client.exceptions import AppError

    client = server.client()
    hits = client.predict("Who is Ken Hu?", 3, api_name="/retrieve")
    assert len(hits) == 3
    assert set(hits[0]) == {"text", "source", "start", "end", "page", "score", "label", "chunk_id", "position", "title"}
    assert "Ken Hu" in " ".join(h["text"] for h in hits)
    article = ARTICLE.read_text("utf-8")
    assert all(article[h["start"] : h["end"]] == h["text"] for h in hits)
    with pytest.raises(AppError, match="k=0"):
        client.predict("Who is Ken Hu?", 0, api_name="/retrieve")


@pytest.mark.slow
def test_the_chat_endpoint_renders_cited_answers_and_keeps_the_conversation(server):
    client = server.client()  # one session: the chat keeps its (question, answer) history
    messages, box = client.predict("Who is Ken Hu?", [], api_name="/chat")
    assert box == ""
    assert [m["role"] for m in messages] == ["user", "assistant"]
    html = messages[-1]["content"][0]["text"]
    assert 'class="qa-marker" href="#cite-1-1"' in html and 'id="cite-1-1"' in html and "<mark>" in html
    messages, _ = client.predict("What did he say about the EU's cybersecurity work?", messages, api_name="/chat")
    html = messages[-1]["content"][0]["text"]
    assert "great job" in html and 'id="cite-2-1"' in html  # ids unique per turn


def test_the_chat_endpoint_takes_plain_text_messages_as_ask_does(server):
    # OpenAI-style messages ("content" as text) had been answered with pydantic's multi-line report
    import requests

    history = [{"role": "user", "content": "Who is Ken Hu?"}, {"role": "assistant", "content": "Huawei's rotating CEO."}]
    event = requests.post(f"{server.url}gradio_api/call/chat",
                          json={"data": ["What did he say about the EU's cybersecurity work?", history]}, timeout=30)
    stream = requests.get(f"{server.url}gradio_api/call/chat/{event.json()['event_id']}", timeout=120).text
    assert "event: complete" in stream and "great job" in stream  # the follow-up read in its conversation


def test_a_chat_without_its_session_reads_the_conversation_from_its_messages(app_module):
    # each plain HTTP call to /chat is a session of its own, with no (question, answer) state: the
    # messages sent had been shown and not read, so a follow-up was asked alone
    from assistant.answer.types import Answer
    from assistant.interfaces import render

    answer = Answer(question="Who is <b>Ken</b> Hu?", text="He is the chairman.", citations=(), abstained=False, hits=())
    page = [{"role": "user", "content": render.question_html("Who is <b>Ken</b> Hu?")},
            {"role": "assistant", "content": [{"type": "text", "text": render.answer_html(answer, 1)}]}]
    assert app_module.conversation(page) == [("Who is <b>Ken</b> Hu?", "He is the chairman.")]
    assert app_module.conversation([{"role": "user", "content": "Who is Ken Hu?"}, {"role": "assistant", "content": "A CEO."}]) == [
        ("Who is Ken Hu?", "A CEO.")]
    with pytest.raises(Exception, match="messages: a message's role must be user or assistant"):
        app_module.conversation([{"role": "robot", "content": "Hi"}])
    # a question answered by an error (here too long to be asked) is no turn: it had been read
    # back, refused, and every later question of the chat failed with it
    refused = [{"role": "user", "content": render.question_html("x" * 20_000)},
               {"role": "assistant", "content": render.note_html("Error: question: too long", "error")}]
    assert app_module.conversation(refused + page) == [("Who is <b>Ken</b> Hu?", "He is the chairman.")]


@pytest.mark.slow
def test_a_question_the_chat_refuses_stays_in_the_box_and_the_chat_goes_on(server):
    long = "Please summarise: " + "Huawei and Europe. " * 600
    for client in (server.client(), None):  # the page's session, then plain calls (a session each)
        session = client or server.client()
        messages, box = session.predict(long, [], api_name="/chat")
        assert "too long" in messages[-1]["content"][0]["text"] and box == long
        shown = messages[-2]["content"][0]["text"]  # its start and length, not the whole paste
        assert len(shown) < 1000 and f"… ({len(long.strip()):,} characters)" in unescape(shown)
        session = client or server.client()
        messages, box = session.predict("Who is Ken Hu?", messages, api_name="/chat")
        html = messages[-1]["content"][0]["text"]
        assert box == "" and "qa-error" not in html and "Ken Hu" in html


@pytest.mark.slow
def test_an_upload_named_with_a_path_lands_inside_the_corpus_folder_only(server):
    import requests

    def add(name: str) -> str:
        """An upload as a browser sends it (plain HTTP: gradio_client re-uploads and renames), its result line."""
        (path,) = requests.post(server.url + "gradio_api/upload", timeout=30,
                                files=[("files", (name, b"Zebras in the Serengeti number about 70,000.\n"))]).json()
        file = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}
        event = requests.post(f"{server.url}gradio_api/call/add_documents", json={"data": [[file], False]}, timeout=30)
        stream = requests.get(f"{server.url}gradio_api/call/add_documents/{event.json()['event_id']}", timeout=120).text
        return html.unescape(json.loads([line for line in stream.splitlines() if line.startswith("data:")][-1][5:])[1])

    evil = "../../escaped-upload.txt"
    # the name as given is checked (Gradio's cached copy had been renamed "escaped-upload.txt" and added)
    assert f"Refused: {evil!r}: a file name, not a path, is expected" in add(evil)
    assert "Refused: 'a\\nb.txt': file name contains U+000A, which a file name here may not hold; rename it" in add("a\nb.txt")  # was "a%0Ab.txt"
    found = list(server.workdir.parent.rglob("escaped-upload.txt"))
    cache = server.workdir / "gradio"  # Gradio's own copy of the upload
    assert [p for p in found if not p.is_relative_to(cache)] == []
    assert "Added: escaped-upload.txt (1 passage)" in add("escaped-upload.txt")
    assert (server.corpus_dir / "escaped-upload.txt").exists()
    hits = server.client().predict("How many zebras live in the Serengeti?", 1, api_name="/retrieve")
    assert hits[0]["source"].endswith("escaped-upload.txt")  # used at once, no restart
    removed = server.client().predict(str(server.corpus_dir / "escaped-upload.txt"), api_name="/remove_document")
    assert "Removed escaped-upload.txt" in html.unescape(removed[0]) and not (server.corpus_dir / "escaped-upload.txt").exists()
    # Gradio's cached copies, of the added upload and of the refused ones, are gone too (a removed
    # document's text had stayed there, even after the server stopped)
    assert [p for p in cache.rglob("*") if p.is_file() and b"Zebras" in p.read_bytes()] == []


@pytest.mark.slow
def test_files_chosen_while_an_upload_is_indexed_are_indexed_after_it(server, app_module):
    """A second upload while one was indexed had been dropped without a word (Gradio's default
    trigger mode); then its call carries the first upload's file too, which must not be refused."""
    import requests

    def cached(name: str, text: bytes) -> dict:
        (path,) = requests.post(server.url + "gradio_api/upload", timeout=30, files=[("files", (name, text))]).json()
        return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}

    def add(files: list[dict]) -> str:
        event = requests.post(f"{server.url}gradio_api/call/add_documents", json={"data": [files, False]}, timeout=30)
        stream = requests.get(f"{server.url}gradio_api/call/add_documents/{event.json()['event_id']}", timeout=120).text
        return html.unescape(json.loads([line for line in stream.splitlines() if line.startswith("data:")][-1][5:])[1])

    first, second = cached("herons.txt", b"Grey herons nest in the reed beds.\n"), cached("otters.txt", b"Otters hunt at dusk.\n")
    assert "Added: herons.txt (1 passage)" in add([first])
    line = add([first, second])  # what the browser sends: the box holds both
    assert "Added: otters.txt (1 passage)" in line and "herons.txt" not in line and "cannot read" not in line
    assert (server.corpus_dir / "otters.txt").exists()
    # a cached file gone that no upload handled is still refused, naming it
    lost = cached("lost.txt", b"Nothing.\n")
    os.remove(lost["path"])
    assert "Refused: lost.txt: cannot read the upload" in add([lost])
    (upload,) = [d for d in app_module.build().config["dependencies"] if d.get("api_name") == "add_documents"]
    assert upload["trigger_mode"] == "multiple"


def test_a_file_given_as_a_web_address_is_refused_without_fetching_it(server):
    """Gradio downloads a file an API call names by URL before the app sees it: the server had
    fetched any public address it was given."""
    import requests

    file = {"path": "http://203.0.113.7/owl.txt", "meta": {"_type": "gradio.FileData"}, "orig_name": "owl.txt"}
    event = requests.post(f"{server.url}gradio_api/call/add_documents", json={"data": [[file], False]}, timeout=30)
    stream = requests.get(f"{server.url}gradio_api/call/add_documents/{event.json()['event_id']}", timeout=30).text
    assert "event: error" in stream
    assert "http://203.0.113.7/owl.txt: a web address; upload the file itself (the server fetches nothing)" in stream
    assert not (server.corpus_dir / "owl.txt").exists()


@pytest.mark.slow
def test_a_rejected_request_is_one_line_in_the_server_log(server):
    client = server.client()
    earlier = len(server.log().splitlines())  # the server is shared with other tests of this module
    for args, name, message in ((("   ",), "/ask", "question: must be a non-empty string"),
                                (("Who is Ken Hu?", "[{"), "/ask", "history: not valid JSON"),
                                (("Who is Ken Hu?", 99), "/retrieve", "k=99: must be between 1 and 20"),
                                (("Who is Ken Hu?", 2.7), "/retrieve", "k=2.7: must be a whole number")):
        with pytest.raises(Exception) as refused:
            client.predict(*args, api_name=name)
        assert message in str(refused.value)
    time.sleep(0.5)
    log = "\n".join(server.log().splitlines()[earlier:])
    assert "Traceback" not in log and "history: history" not in log
    for message in ("question: must be a non-empty string", "history: not valid JSON", "k=99: must be between 1 and 20",
                    "k=2.7: must be a whole number"):
        assert sum(message in line for line in log.splitlines()) == 1, log[-2000:]


@pytest.mark.slow
def test_plain_http_callers_send_null_for_a_default(server):
    """What the README shows for callers without gradio_client: every argument sent, null for a default."""
    import json as json_lib

    import requests

    def call(name, data):
        event = requests.post(f"{server.url}gradio_api/call/{name}", json={"data": data}, timeout=30).json()["event_id"]
        stream = requests.get(f"{server.url}gradio_api/call/{name}/{event}", timeout=120).text
        return json_lib.loads([line for line in stream.splitlines() if line.startswith("data:")][-1][5:])

    [answer] = call("ask", ["How many zebras live in the Serengeti?", None])
    assert {"text", "abstained", "citations", "unsure"} <= set(answer)
    [hits] = call("retrieve", ["How many zebras live in the Serengeti?", None])
    assert 1 <= len(hits) <= 5  # the default k


@pytest.mark.slow
def test_smoke_load_five_clients_five_seconds_no_errors(server):
    from gradio_client import Client

    errors, done = [], []
    stop = time.monotonic() + 5

    def worker(i):
        client = Client(server.url, verbose=False)
        questions = ["Who is Ken Hu?", RD_QUESTION, UNANSWERABLE]
        n = 0
        while time.monotonic() < stop:
            try:
                result = client.predict(questions[(i + n) % 3], api_name="/ask")
                assert isinstance(result, dict) and result["text"]
                done.append(1)
            except Exception as err:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(err))
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert done


@pytest.mark.slow
def test_auth_is_required_when_configured(tmp_path):
    import requests

    srv = Server(tmp_path, env={"ASSISTANT_AUTH": "alice:s3cret"}).start()
    try:
        assert requests.get(srv.url + "config", timeout=10).status_code == 401
        assert requests.post(srv.url + "login", data={"username": "alice", "password": "wrong"}, timeout=10).status_code == 400
        session = requests.Session()
        assert session.post(srv.url + "login", data={"username": "alice", "password": "s3cret"}, timeout=10).status_code == 200
        assert session.get(srv.url + "config", timeout=10).status_code == 200
    finally:
        srv.stop()


@pytest.mark.slow
def test_a_configured_language_model_streams_through_the_real_server(tmp_path):
    """app.py + a real OpenAI-compatible server: /chat streams partial text, /ask returns the
    verified generated answer, and the unsupported claim is gone."""
    from tests.llm_server import FakeLLMServer

    corpus_with_article(tmp_path)
    reply = "In 2018, Huawei spent 14.6 billion on R+D [1]. The moon is made of cheese [2]."
    with FakeLLMServer(reply=lambda messages: reply) as llm:
        # abstention off: the warm-up question is answered, so it would reach the model if warming used it
        srv = Server(tmp_path, env={"ASSISTANT_LLM_BASE_URL": llm.base_url, "ASSISTANT_LLM_MODEL": "fake",
                                    "ASSISTANT_LLM_TIMEOUT": "20", "ASSISTANT_ABSTAIN_THRESHOLD": "0"}).start()
        try:
            client = srv.client()
            deadline = time.monotonic() + 120
            while "Index ready" not in srv.log() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "Index ready" in srv.log()
            assert not [r for r in llm.requests if r["method"] == "POST"]  # warming up asked the model nothing
            job = client.submit("How much did Huawei spend on research and development in 2018?", [], api_name="/chat")
            job.result(timeout=180)
            texts = [output[0][-1]["content"][0]["text"] for output in job.outputs()]
            assert len(texts) >= 2, "the answer should arrive in more than one piece"
            assert "14.6 billion" in texts[-1] and "cheese" not in texts[-1]
            answer = client.predict("How much did Huawei spend on research and development in 2018?", api_name="/ask")
            assert answer["method"] == "generated" and not answer["abstained"]
            assert "14.6 billion" in answer["text"] and "cheese" not in answer["text"]
            assert answer["citations"] and all(c["quote"] in c["passage"] for c in answer["citations"])
        finally:
            srv.stop()


# --- command line and launch options (no server) -------------------------------------------------

@pytest.fixture
def app_module():
    import app

    return app


def test_private_by_default(app_module, monkeypatch):
    for name in ("ASSISTANT_HOST", "ASSISTANT_PORT", "ASSISTANT_AUTH"):
        monkeypatch.delenv(name, raising=False)
    args = app_module.parse_args([])
    options = app_module.launch_options(args, Settings.from_env())
    assert (options["server_name"], options["server_port"], options["auth"]) == ("127.0.0.1", 7860, None)
    assert options["share"] is False and options["max_file_size"] == 10 * 2**20
    assert app_module.demo.analytics_enabled is False


def test_host_port_and_auth_from_flags_or_environment(app_module, monkeypatch):
    monkeypatch.setenv("ASSISTANT_HOST", "0.0.0.0")
    monkeypatch.setenv("ASSISTANT_PORT", "8123")
    monkeypatch.setenv("ASSISTANT_AUTH", "alice:pa:ss")
    args = app_module.parse_args([])
    assert (args.host, args.port, args.auth) == ("0.0.0.0", 8123, ("alice", "pa:ss"))
    args = app_module.parse_args(["--host", "127.0.0.2", "--port", "9000", "--auth", "bob:pw"])
    assert (args.host, args.port, args.auth) == ("127.0.0.2", 9000, ("bob", "pw"))
    with pytest.raises(SystemExit):
        app_module.parse_args(["--auth", "nopassword"])


@pytest.mark.parametrize("port", ["99999", "-5", "0"])
def test_a_port_out_of_range_is_a_usage_error_naming_the_flag(app_module, port, capsys):
    with pytest.raises(SystemExit) as usage:  # was an OverflowError traceback at launch
        app_module.parse_args(["--port", port])
    assert usage.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"--port {port}: expected a port from 1 to 65535")


def test_binding_beyond_this_machine_without_a_login_is_refused(app_module, monkeypatch, capsys):
    for name in ("ASSISTANT_HOST", "ASSISTANT_PORT", "ASSISTANT_AUTH"):
        monkeypatch.delenv(name, raising=False)
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        with pytest.raises(SystemExit):
            app_module.parse_args(["--host", host])
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert f"--host {host}" in error and "--no-auth" in error
    assert app_module.parse_args(["--host", "0.0.0.0", "--no-auth"]).auth is None
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert app_module.parse_args(["--host", host]).auth is None
    with pytest.raises(SystemExit):  # a typo is a bad host, not a call for a login
        app_module.parse_args(["--host", "not a host"])
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("--host not a host: not a host name or IP address")
    # a host from the environment is named as the variable set (it had named --host, never given)
    monkeypatch.setenv("ASSISTANT_HOST", "0.0.0.0")
    with pytest.raises(SystemExit):
        app_module.parse_args([])
    assert capsys.readouterr().err.strip().splitlines()[-1].split("error: ", 1)[1].startswith("ASSISTANT_HOST=0.0.0.0: serving beyond this machine")


def test_a_port_whose_last_connections_are_still_closing_can_be_served_again(app_module):
    # a restart within a minute had been refused as "already in use" while only TIME_WAIT sockets
    # of the last browser session were left: the probe now binds as the server does (SO_REUSEADDR)
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.close()
    assert app_module.port_problem("127.0.0.1", port) is None


def test_the_login_can_come_from_a_file(app_module, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    login = tmp_path / "login"
    login.write_text("carol:long secret\n")
    assert app_module.parse_args(["--host", "0.0.0.0", "--auth-file", str(login)]).auth == ("carol", "long secret")
    with pytest.raises(SystemExit):
        app_module.parse_args(["--auth-file", str(tmp_path / "missing")])
    assert "--auth-file" in capsys.readouterr().err
    login.write_text("nocolon\n")  # the file named, not --auth (never given)
    with pytest.raises(SystemExit):
        app_module.parse_args(["--auth-file", str(login)])
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"--auth-file {login}: expected USER:PASSWORD")
    login.write_bytes("\ufeffcarol:long secret\r\n".encode("utf-8"))  # Notepad's UTF-8: the mark had joined the user name
    assert app_module.parse_args(["--auth-file", str(login)]).auth == ("carol", "long secret")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # had waited for a writer for ever
    for bad, reason in [(pipe, "not a regular file"), (Path("/dev/zero"), "not a regular file")]:
        with pytest.raises(SystemExit):
            app_module.parse_args(["--auth-file", str(bad)])
        assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"--auth-file {bad}: {reason}; give a file holding USER:PASSWORD")
    login.write_text("carol:" + "x" * 5000)
    with pytest.raises(SystemExit):
        app_module.parse_args(["--auth-file", str(login)])
    assert "larger than 4,096 bytes" in capsys.readouterr().err


def test_building_the_ui_writes_no_stub_beside_the_app_and_uploads_keep_their_names(app_module):
    # a gr.File subclass had made Gradio write app.pyi into the clone
    app_module.build()
    assert not list(ROOT.glob("*.pyi"))
    uploader = next(b for b in app_module.build().blocks.values() if getattr(b, "elem_id", None) == "upload")
    from gradio.data_classes import FileData, ListFiles

    named = uploader.preprocess(ListFiles(root=[FileData(path=str(ROOT / "app.py"), orig_name="../../evil.txt")]))
    assert named == [(str(ROOT / "app.py"), "../../evil.txt")]


def test_a_reload_restores_the_last_turns_of_a_long_conversation_and_nothing_from_bad_storage(app_module):
    many = app_module.KEPT_TURNS + 5
    messages = [m for i in range(many) for m in ({"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"})]
    turns = [(f"q{i}", f"a{i}") for i in range(many)]
    kept = app_module.to_keep(messages, turns)
    assert kept[0][0] == {"role": "user", "content": "q5"} and len(kept[0]) == 2 * app_module.KEPT_TURNS
    assert app_module.restored(kept) == (kept[0], turns[5:])
    assert app_module.to_keep(messages[:4], turns[:2]) == [messages[:4], turns[:2]]  # a short one whole
    for bad in (None, "x", [[{"role": "robot"}], []], [[], [1, 2]], [[1], []]):
        assert app_module.restored(bad)[0] == []


def test_failed_logins_in_a_row_wait_longer_each_time(app_module):
    import asyncio

    login = app_module.Login("alice", "s3cret", max_delay=4.0)
    delays = [login.attempt("alice", "wrong")[1] for _ in range(5)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert login.attempt("alice", "s3cret") == (True, 0.0)
    assert login.attempt("alice", "wrong") == (False, 0.5)  # a success starts the count again
    assert login.attempt("bob", "s3cret")[0] is False
    check = app_module.Login("alice", "s3cret").gradio_auth()
    assert asyncio.run(check("alice", "s3cret")) is True


def test_login_attempts_sent_at_once_are_answered_one_after_another(app_module, monkeypatch):
    # 200 wrong guesses sent at once had all been answered after the same 8 s
    import asyncio

    real_sleep, waits = asyncio.sleep, []

    async def sleep(delay):
        waits.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    monkeypatch.setattr(app_module.time, "monotonic", lambda: 100.0)  # all sent at the same moment
    login = app_module.Login("alice", "s3cret", max_delay=4.0)
    check = login.gradio_auth()

    async def guesses_and_the_password():
        return await asyncio.gather(*(check("alice", f"guess {i}") for i in range(6)), check("alice", "s3cret"))

    *tries, right = asyncio.run(guesses_and_the_password())
    assert tries == [False] * 6 and right is True
    # each guess answered its delay after the one before; the right password at once (no wait)
    assert waits == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5]


def test_a_busy_port_is_one_line_naming_the_flag(app_module):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0] and "--port" in lines[0], result.stderr
    assert app_module.port_problem("127.0.0.1", free_port()) is None
    # a host that is not this machine's (or no host at all) is blamed on --host, not on the port
    for host in ("192.0.2.1", "nosuchhost.invalid"):  # TEST-NET-1, and a name that never resolves
        problem = app_module.port_problem(host, free_port())
        assert problem.startswith(f"app.py: host {host} is not an address of this machine") and "--host" in problem


def test_history_pairs_accepts_pairs_messages_and_json(app_module):
    pairs = [("Who is Ken Hu?", "A CEO. [1]")]
    messages = [{"role": "user", "content": "Who is Ken Hu?"},
                {"role": "assistant", "content": [{"type": "text", "text": "A CEO. [1]"}]}]
    assert app_module.history_pairs(pairs) == pairs
    assert app_module.history_pairs(messages) == pairs
    assert app_module.history_pairs(json.dumps(messages)) == pairs
    assert app_module.history_pairs(None) == app_module.history_pairs("") == []
    with pytest.raises(ValueError) as bad:
        app_module.history_pairs([42])
    assert not str(bad.value).startswith("history")  # the API names the parameter once
    with pytest.raises(ValueError, match="not valid JSON"):
        app_module.history_pairs("[{")
    deep = []
    for _ in range(5000):
        deep = [deep]
    for nested in ("[" * 100_000, deep, [("Who?", {"content": deep})]):  # RecursionError, a traceback in the server's log
        with pytest.raises(ValueError, match="nested too deeply; expected a list of"):
            app_module.history_pairs(nested)
    # LangChain's role names, as tuples or messages, are read as such (("human", question) had been
    # read as the question "human", and messages with role "human" or none were dropped unnoticed)
    langchain = [("human", "Who is Ken Hu?"), ("ai", "A CEO. [1]")]
    assert app_module.history_pairs(langchain) == pairs
    assert app_module.history_pairs([{"role": "human", "content": "Who is Ken Hu?"}, {"role": "ai", "content": "A CEO. [1]"}]) == pairs
    assert app_module.history_pairs([{"role": "system", "content": "Be brief."}] + messages) == pairs
    assert app_module.history_pairs([{"role": "developer", "content": "Be brief."}] + messages) == pairs
    # a one-word question that is a role word in another case stays a question of a pair
    assert app_module.history_pairs([("AI", "Artificial intelligence is …")]) == [("AI", "Artificial intelligence is …")]
    assert app_module.history_pairs([["Human", "Humans are a species."]]) == [("Human", "Humans are a species.")]
    for role in (None, "robot"):
        with pytest.raises(ValueError, match="role must be user or assistant"):
            app_module.history_pairs([{"role": role, "content": "Who is Ken Hu?"}] if role else [{"content": "Who is Ken Hu?"}])
    with pytest.raises(ValueError, match="a message has no content"):
        app_module.history_pairs([{"role": "user"}])  # (had been read as an empty question, unnoticed)


def test_history_in_langchains_serialised_forms_reads_as_its_messages(app_module):
    # the README accepts LangChain messages "or their JSON text": its own JSON forms had been
    # refused with "role ... got None"
    from langchain_core.load import dumps
    from langchain_core.messages import AIMessage, HumanMessage, messages_to_dict

    messages = [HumanMessage("Who is Ken Hu?"), AIMessage("A CEO. [1]")]
    pairs = [("Who is Ken Hu?", "A CEO. [1]")]
    assert app_module.history_pairs(json.dumps(messages_to_dict(messages))) == pairs
    assert app_module.history_pairs(dumps(messages)) == pairs
    assert app_module.history_pairs("[" + ",".join(m.model_dump_json() for m in messages) + "]") == pairs
    assert app_module.history_pairs([m.model_dump() for m in messages]) == pairs


# --- uploads and removal, in-process on the fake embedder ----------------------------------------

@pytest.mark.parametrize("name", [
    "../evil.txt", "../../etc/cron.d/evil.txt", "/etc/evil.txt", "..\\evil.txt", "sub/evil.txt",
    "..", ".", ".hidden.txt", "evil\x00.txt", "evil\n.txt", "", "   ",
    "<img src=x onerror=alert(1)>.txt", "evil.exe", "evil.txt.sh", "noextension", "x" * 300 + ".txt",
    "report\u202egnp.md", "in\u200bvisible.txt", "line\u2028break.txt",
    " notes.txt", "notes.txt ", "notes.txt\u00a0", "notes\u2003plan.txt",  # (look-alikes: " notes.txt" had been added beside "notes.txt")
])
def test_unsafe_or_unsupported_names_are_refused_with_one_line(app_module, name):
    with pytest.raises(UploadRefused) as refused:
        safe_document_name(name)
    assert "\n" not in str(refused.value).replace("\\n", "")


@pytest.mark.parametrize("name, shown", [('report "final".txt', """'"'"""), ("a<b.txt", "'<'"), ("a|b:c.txt", "'|', ':'"),
                                         ("tab\there.txt", "U+0009")])
def test_a_refused_name_says_which_character(app_module, name, shown):
    # "file name contains a character that is not allowed" had left the user to guess which
    with pytest.raises(UploadRefused, match=f"file name contains {re.escape(shown)}, which a file name here may not hold"):
        safe_document_name(name)


def test_a_name_too_long_is_refused_naming_which_file(app_module):
    # "Refused: file name longer than 200 bytes" had not said which of the files uploaded
    with pytest.raises(UploadRefused) as refused:
        safe_document_name("quarterly-report-" + "x" * 300 + "-final.txt")
    assert str(refused.value) == "'quarterly-report-xxxxxxxxxxxxxxxxxxxxxxx…xx-final.txt': file name longer than 200 bytes"


@pytest.mark.parametrize("name", ["notes.md", "Report 2024 (final).PDF", "über-café.txt", "page.htm", "a-b_c.html", "a..b.txt", "Q3 results... draft.txt"])
def test_plain_document_names_are_accepted(app_module, name):
    assert safe_document_name(name) == name


def test_a_decomposed_accent_names_the_same_document(app_module):
    assert safe_document_name("cafe\u0301.txt") == safe_document_name("caf\u00e9.txt") == "caf\u00e9.txt"


@pytest.fixture(params=["faiss", "milvus"])
def service(app_module, tmp_path, request):
    """A Service on the fake embedder, its corpus holding one document, already indexed; once on
    an index folder, once on Milvus Lite."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kept.txt").write_text("The lighthouse stands on the northern cliff. It is white.\n")
    store = str(tmp_path / "index") if request.param == "faiss" else f"milvus://{tmp_path / 'index.db'}"
    settings = Settings.from_env(index_dir=store, corpus_dir=str(corpus), max_file_mb=0.01)
    svc = app_module.Service(settings, embedder=HashEmbedder(), log=lambda line: None)
    svc.prepare()
    assert svc.ready.is_set() and svc.problem is None, svc.status
    return svc


def test_an_upload_an_index_of_another_recipe_refuses_is_not_left_in_the_corpus_folder(app_module, tmp_path):
    # the index, built with another chunk size, holds a document gone from disk: the add is refused
    # (it cannot keep that document under the new recipe), and the upload had stayed in the folder unindexed
    from assistant.facade import Assistant
    from assistant.interfaces.corpus import CorpusFolder

    corpus, elsewhere = tmp_path / "corpus", tmp_path / "elsewhere.txt"
    corpus.mkdir()
    elsewhere.write_text("Owls hunt at night over the meadow.", "utf-8")
    settings = Settings.from_env(chunk_size=300, chunk_overlap=60, corpus_dir=str(corpus), index_dir=str(tmp_path / "index"))
    Assistant(settings=settings, embedder=HashEmbedder()).add([str(elsewhere)])
    elsewhere.unlink()
    upload = tmp_path / "up.txt"
    upload.write_text("Pears ripen in August.", "utf-8")
    other = Assistant(settings=settings.replace(chunk_size=200), embedder=HashEmbedder())
    (line,) = CorpusFolder(other).add([(str(upload), "pears.txt")])
    assert line.startswith("Refused: pears.txt: not done: the index was built with chunk size 300") and "nothing was changed" in line
    assert not (corpus / "pears.txt").exists() and [Path(f.source).name for f in other.documents()] == ["elsewhere.txt"]


def snapshot(svc) -> tuple[bytes, list[str]]:
    corpus = Path(svc.settings.corpus_dir)
    from assistant.store import open_store

    return (open_store(svc.settings.index_dir).token(), sorted(p.name for p in corpus.iterdir()))


def upload_file(tmp_path: Path, name: str, data: bytes) -> str:
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    path = folder / "upload.bin"
    path.write_bytes(data)
    return str(path)


def test_an_upload_is_saved_in_the_corpus_and_searchable_at_once(service, tmp_path):
    temp = upload_file(tmp_path, "x", b"Penguins live in the southern hemisphere, mostly in Antarctica.\n")
    lines = service.add_files([(temp, "penguins.txt")])
    assert lines == ["Added: penguins.txt (1 passage)"]
    assert (Path(service.settings.corpus_dir) / "penguins.txt").exists()
    assert service.retrieve("Where do penguins live?", 1)[0].source.endswith("penguins.txt")
    assert service.add_files([(temp, "penguins.txt")]) == ["Already indexed, unchanged: penguins.txt"]


def test_a_same_name_upload_is_refused_unless_replacing_and_the_old_file_survives_a_failed_replace(service, tmp_path, monkeypatch):
    kept = Path(service.settings.corpus_dir) / "kept.txt"
    original = kept.read_bytes()
    before = snapshot(service)
    other = tmp_path / "other-kept.txt"
    other.write_bytes(b"A different document about volcanoes erupting.\n")
    other = str(other)
    (line,) = service.add_files([(other, "kept.txt")])
    assert line.startswith("Refused: kept.txt: a different document with this name exists") and "replace" in line
    assert snapshot(service) == before and kept.read_bytes() == original
    same = upload_file(tmp_path, "kept.txt", original)
    assert service.add_files([(same, "kept.txt")]) == ["Already indexed, unchanged: kept.txt"]

    import assistant

    def failing_add(*args, **kwargs):
        assert kept.read_bytes() != original  # the new one is in place while indexing ...
        raise RuntimeError("indexing interrupted")

    monkeypatch.setattr(assistant.ingest.indexing, "add_documents", failing_add)
    with pytest.raises(RuntimeError):
        service.add_files([(other, "kept.txt")], replace=True)
    assert kept.read_bytes() == original and snapshot(service) == before  # ... and the old one is back
    monkeypatch.undo()
    assert service.add_files([(other, "kept.txt")], replace=True) == ["Updated: kept.txt (1 passage)"]
    assert service.retrieve("volcanoes erupting", 1)[0].source.endswith("kept.txt")


def test_an_upload_being_indexed_can_be_cancelled_and_leaves_everything_as_it_was(service, tmp_path):
    service.embedder.delay = 1.0  # each embedding call takes a second: time to press Cancel
    before = snapshot(service)
    new = tmp_path / "slow.txt"
    new.write_text("Hedgehogs sleep through the winter in piles of leaves.\n")
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("lines", service.add_files([(str(new), "slow.txt")], session="A")))
    assert service.cancel_indexing() == "Nothing is being indexed."
    worker.start()
    deadline = time.monotonic() + 10
    while not (Path(service.settings.corpus_dir) / "slow.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    # every session sees that an upload is being indexed; only its own session may cancel it
    assert "; indexing an upload of 1 file …" in service.status_line()
    assert service.cancel_indexing("B") == "The upload being indexed is another user's; only they can cancel it."
    assert service.cancel_indexing("A").startswith("Cancelling")
    worker.join(30)
    (line,) = result["lines"]
    assert line.startswith("Refused: cancelled") and snapshot(service) == before
    service.embedder.delay = 0.0
    assert service.add_files([(str(new), "slow.txt")]) == ["Added: slow.txt (1 passage)"]  # the next one is not cancelled


@pytest.mark.parametrize("name, data, reason", [
    ("../outside.txt", b"Text that must not escape.\n", "a file name, not a path"),
    ("..", b"Text.\n", "'..' is not allowed"),
    ("..evil.txt", b"Text.\n", "hidden file names"),
    ("/tmp/absolute.txt", b"Text that must not escape.\n", "a file name, not a path"),
    (".hidden.md", b"Hidden.\n", "hidden file names"),
    ("program.exe", b"MZ\x90\x00", "unsupported file type .exe"),
    ("empty.txt", b"   \n", "empty file"),
    ("binary.txt", b"\x00\x01\x02 binary", "binary file"),
    ("latin1.txt", "café".encode("latin-1"), "not valid UTF-8"),
    ("big.txt", b"word " * 5000, "too large"),
])
def test_a_refused_upload_leaves_the_index_and_the_corpus_folder_as_they_were(service, tmp_path, name, data, reason):
    before = snapshot(service)
    lines = service.add_files([(upload_file(tmp_path, name, data), name)])
    assert len(lines) == 1 and lines[0].startswith("Refused: ") and reason in lines[0], lines
    assert snapshot(service) == before
    assert not (tmp_path / "outside.txt").exists() and not Path("/tmp/absolute.txt").exists()


def test_a_file_the_indexer_rejects_is_taken_out_and_the_one_it_replaced_put_back(service, tmp_path, monkeypatch):
    """Even past the checks (disabled here), an indexing failure rolls the folder back."""
    monkeypatch.setattr(type(service.corpus), "_check_file", lambda self, path, name: None)
    before = snapshot(service)
    kept = Path(service.settings.corpus_dir) / "kept.txt"
    original = kept.read_bytes()
    lines = service.add_files([(upload_file(tmp_path, "kept.txt", b"\x00\x00 binary now"), "kept.txt"),
                               (upload_file(tmp_path, "new.txt", b""), "new.txt")])
    assert all(line.startswith("Refused: ") for line in lines) and len(lines) == 2, lines
    assert snapshot(service) == before and kept.read_bytes() == original
    # replacing it: the indexer drops the old version with the failed new one; the old file is put
    # back, and so is its text in the index
    (line,) = service.add_files([(upload_file(tmp_path, "kept.txt", b"\x00\x00 binary now"), "kept.txt")], replace=True)
    assert line.startswith("Refused: kept.txt: binary file") and "indexed before" not in line
    assert kept.read_bytes() == original and [f.source for f in service.files()] == [str(kept)]
    assert service.retrieve(original.decode()[:40], 1)[0].source == str(kept)


def test_one_bad_file_does_not_stop_the_good_ones(service, tmp_path):
    good = tmp_path / "good.md"
    good.write_text("# Owls\nOwls hunt at night.\n")
    lines = service.add_files([(str(good), "good.md"), (upload_file(tmp_path, "bad", b"MZ"), "bad.exe")])
    assert lines[0] == "Added: good.md (1 passage)" and lines[1].startswith("Refused: bad.exe: unsupported")


def test_remove_deletes_a_file_in_the_corpus_folder_and_keeps_one_outside(service, tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_text("Glaciers move slowly down the valley.\n")
    import assistant

    shipped = tmp_path / "shipped"  # a recorded folder other than the corpus folder, like the shipped documents
    (shipped / "fjords.txt").parent.mkdir()
    (shipped / "fjords.txt").write_text("Fjords are long, narrow inlets.\n")
    assistant.add_documents([str(outside), str(shipped)], service.settings.index_dir, settings=service.settings, embedder=service.embedder)
    kept = str(Path(service.settings.corpus_dir) / "kept.txt")
    assert "its file was deleted" in service.remove(kept) and not Path(kept).exists()
    assert "outside the corpus folder and was kept" in service.remove(str(outside)) and outside.exists()
    assert "rebuilds leave it out" in service.remove(str(shipped / "fjords.txt"))
    report = assistant.rebuild_index(None, service.settings.index_dir, settings=service.settings, embedder=service.embedder)
    assert not report.added and (str(shipped / "fjords.txt"), EXCLUDED) in report.skipped
    from assistant.interfaces.cli import main

    capsys.readouterr()
    assert main(["--index", service.settings.index_dir, "index", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["excluded"] == [str(shipped / "fjords.txt")]  # not the deleted upload
    assert [f.source for f in service.files()] == []
    assert service.remove(kept).startswith("Not removed: kept.txt")
    # a name with dots inside is a name; typed as the table shows it, it removes its one document
    dotted = tmp_path / "Q3 results... draft.txt"
    dotted.write_text("Revenue rose in the third quarter.\n")
    assert service.add_files([(str(dotted), dotted.name)]) == [f"Added: {dotted.name} (1 passage)"]
    assert service.remove(dotted.name).startswith(f"Removed {dotted.name} from the index")
    # two documents of one name: the list's value (a full path) removes its own, a bare name neither
    twin = tmp_path / "twin" / dotted.name
    twin.parent.mkdir()
    twin.write_text("Costs fell in the third quarter.\n")
    assert service.add_files([(str(dotted), dotted.name)])[0].startswith("Added")
    import assistant as assistant_module

    assistant_module.add_documents([str(twin)], service.settings.index_dir, settings=service.settings, embedder=service.embedder)
    assert "2 documents have this name" in service.remove(dotted.name)
    assert service.remove(str(twin)).startswith(f"Removed {dotted.name} from the index")
    # what a caller types is echoed on one line, cut short
    assert service.remove("a\nb") == "Not removed: a\\nb: not in the index."
    assert len(service.remove("x" * 5000)) < 200


def test_a_missing_index_with_an_empty_corpus_says_so(app_module, tmp_path):
    settings = Settings.from_env(index_dir=str(tmp_path / "index"), corpus_dir=str(tmp_path / "empty"))
    lines = []
    svc = app_module.Service(settings, embedder=HashEmbedder(), log=lines.append)
    svc.prepare()
    assert svc.ready.is_set() and f"No documents indexed: {tmp_path / 'empty'} holds" in svc.problem
    # an empty store is not a problem (it had been headed "Index problem:")
    assert svc.status_line() == "**Index:** No documents indexed yet; add some in the Documents tab."
    # the folders named are those the rebuild reads
    assert any(line.startswith(f"Building the index from {tmp_path / 'empty'} (") for line in lines), lines
    # a browser user is told what to do there, not which command to run
    from assistant.store.snapshot import IndexMissing

    with pytest.raises(IndexMissing) as err:
        svc.ask("What do penguins eat?")
    assert str(err.value) == "No documents indexed yet: add some in the Documents tab."
    # once documents are added, the problem is over (the status had said "No documents" until a restart)
    new = tmp_path / "penguins.txt"
    new.write_text("Penguins eat krill and small fish.\n")
    assert svc.add_files([(str(new), "penguins.txt")]) == ["Added: penguins.txt (1 passage)"]
    assert svc.problem is None and svc.status_line() == "**Index:** 1 document, 1 passage indexed; ready."
    assert not svc.ask("What do penguins eat?").abstained
    # and once the last one is removed, there are none again (it had said "0 documents … ready",
    # and a question "The documents don't say.")
    assert svc.remove(str(tmp_path / "empty" / "penguins.txt")).startswith("Removed penguins.txt")
    assert svc.status_line() == "**Index:** No documents indexed yet; add some in the Documents tab."
    with pytest.raises(IndexMissing, match="^No documents indexed yet: add some in the Documents tab.$"):
        svc.ask("What do penguins eat?")
    assert svc.add_files([(str(new), "penguins.txt")]) == ["Added: penguins.txt (1 passage)"]
    assert not svc.ask("What do penguins eat?").abstained


def test_a_start_up_rebuild_that_fails_says_why_not_that_there_are_no_documents(app_module, tmp_path):
    # a recorded folder not found (a relative one, the app started from elsewhere) had been shown as
    # "No documents indexed yet; add some", and adding some then failed on the damaged index
    corpus = tmp_path / "up"
    corpus.mkdir()
    settings = Settings.from_env(index_dir=str(tmp_path / "index"), corpus_dir=str(corpus))
    svc = app_module.Service(settings, embedder=HashEmbedder(), log=lambda line: None)
    from assistant.ingest.indexing import rebuild_index

    gone = tmp_path / "gone_*folder*"
    gone.mkdir()
    (gone / "a.txt").write_text("Owls hunt at night.\n")
    rebuild_index([str(gone)], settings.index_dir, settings=settings, embedder=HashEmbedder())
    shutil.rmtree(gone)
    for chunks in (tmp_path / "index").rglob("chunks.jsonl"):
        chunks.write_text("damaged")
    svc.prepare()
    assert svc.problem.startswith(f"The index could not be rebuilt: {gone}: no such file or directory")
    line = svc.status_line()
    assert "*folder*" not in line and html.unescape(line).startswith(f"**Index problem:** The index could not be rebuilt: {gone}:")  # (escaped: Markdown)
    # an upload or removal on the damaged index: one line in the result (it had been a Gradio error
    # with the store's command, and the result box kept its old text), the folder as it was
    new = tmp_path / "penguins.txt"
    new.write_text("Penguins eat krill.\n")
    (result,) = svc.add_files([(str(new), "penguins.txt")])
    assert result.startswith("Failed: ") and "\n" not in result and "python -m assistant" not in result
    assert list(corpus.iterdir()) == []
    assert svc.remove("a.txt").startswith("Not removed: ")


def test_store_messages_shown_in_the_browser_leave_out_the_commands_they_name():
    from assistant.interfaces.service import for_browser

    assert for_browser("/x/index: no index yet; run `python -m assistant index rebuild` or `python -m assistant index add PATH`") == "/x/index: no index yet"
    assert for_browser("/x/CURRENT: malformed; run `python -m assistant --index /x index rebuild`") == "/x/CURRENT: malformed"
    assert for_browser("ready") == "ready"


def test_an_index_made_with_other_chunking_is_rebuilt_at_start(app_module, service):
    other = service.settings.replace(chunk_size=400, chunk_overlap=50)
    lines = []
    svc = app_module.Service(other, embedder=service.embedder, log=lines.append)
    svc.prepare()
    assert svc.problem is None and any("Building the index" in line and "chunk size" in line for line in lines)
    from assistant.ingest.indexing import ensure_index

    assert ensure_index(other.index_dir, settings=other, embedder=service.embedder) is None  # now current


def test_a_configured_language_model_streams_partial_text_then_the_checked_answer(app_module):
    """`_answer_stream` runs ask() in a worker thread and yields the tokens as they arrive."""
    from assistant.answer.types import Answer

    class Streaming(app_module.Service):
        def ask(self, question, history=(), on_token=None):
            for piece in ("Paris ", "is ", "the capital [1]."):
                on_token(piece)
                time.sleep(0.06)
            return Answer(question=question, text="Paris is the capital [1].", citations=(), abstained=False,
                          hits=(), method="generated")

    svc = Streaming(Settings.from_env(llm_base_url="http://127.0.0.1:9/v1"), log=lambda line: None)
    steps = list(app_module._answer_stream(svc, "What is the capital?", []))
    partials = [partial for partial, answer in steps if answer is None]
    assert partials and partials[-1].startswith("Paris") and len(partials) >= 2
    assert steps[-1][1].method == "generated"

    class Failing(app_module.Service):
        def ask(self, question, history=(), on_token=None):
            raise RuntimeError("model unreachable")

    with pytest.raises(RuntimeError, match="unreachable"):
        list(app_module._answer_stream(Failing(svc.settings, log=lambda line: None), "q", []))


AUDITED = r'''
import ipaddress, json, sys

leaks = []

def _local(host):
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

def hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple) and not _local(args[1][0]):
        leaks.append(f"connect {args[1]}")
    elif event == "socket.getaddrinfo" and not _local(args[0]):
        leaks.append(f"lookup {args[0]}")

sys.addaudithook(hook)
import app, requests
from gradio_client import Client

port = int(sys.argv[1])
app.SERVICE.start()
app.demo.queue()
app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, ssr_mode=False)
client = Client(f"http://127.0.0.1:{port}/", verbose=False)
answer = client.predict("Who is Ken Hu?", api_name="/ask")
(path,) = requests.post(f"http://127.0.0.1:{port}/gradio_api/upload",
                        files=[("files", ("owls.txt", b"Owls hunt at night in the forest.\n"))], timeout=30).json()
added = client.predict([{"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "owls.txt"}], False,
                       api_name="/add_documents")
hits = client.predict("When do owls hunt?", 1, api_name="/retrieve")
print(json.dumps({"leaks": leaks, "answer": answer["text"], "added": added[1], "hit": hits[0]["source"]}))
app.demo.close()
'''


@pytest.mark.slow
def test_no_connection_leaves_the_machine_while_serving_answering_and_indexing(tmp_path):
    """An audit hook in the app's process records every connection and name lookup: starting
    the server, answering, uploading and indexing reach nothing but loopback."""
    corpus_with_article(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(tmp_path / "index"), ASSISTANT_CORPUS_DIR=str(tmp_path / "corpus"),
               GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    result = subprocess.run([sys.executable, "-c", AUDITED, str(free_port())], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{\"leaks\"")))
    assert "Ken Hu" in report["answer"] and "owls.txt" in html.unescape(report["added"])
    assert report["hit"].endswith("owls.txt")
    assert report["leaks"] == []
