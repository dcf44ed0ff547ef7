"""The browser chat in Debian's Chromium (Playwright, sync API) against the real server.

One server (`python app.py`, index already present) and one page for the whole module; the tests
run in order, as a user would: ask, open a source, follow up, get a refusal, upload a document and
ask about it, upload a hostile one, remove a document. Every dialog and every request the page
makes is recorded: none may be a dialog, none may leave 127.0.0.1.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.answer.prompts import NO_ANSWER, RELATED_HEADING
from tests.test_app import ARTIFACTS, ROOT, Server, corpus_with_article, record_timing

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ANSWERS = "#chatbot .qa-answer, #chatbot .qa-refusal, #chatbot .qa-error"
PENGUINS = (
    "Emperor penguins\n\nEmperor penguins breed on the sea ice around Antarctica during the long polar "
    "winter. The male keeps the single egg warm on his feet for about 65 days while the female feeds at sea.\n"
)
SCRIPT, IMG, MD_IMAGE = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![x](http://example.com/x.png)"
HOSTILE = (
    f"The Zorblax festival\n\nThe Zorblax festival takes place every March in the town of Quillton. {SCRIPT} "
    f"Visitors bring {IMG} blue melons to the market square. {MD_IMAGE} The festival celebrates the melon harvest.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on the article, with its index copied from the project (present at start)."""
    workdir = tmp_path_factory.mktemp("browser")
    corpus_with_article(workdir)
    generation = (ROOT / "index" / "CURRENT").read_text().split()[0]
    (workdir / "index").mkdir()
    shutil.copyfile(ROOT / "index" / "CURRENT", workdir / "index" / "CURRENT")
    shutil.copytree(ROOT / "index" / generation, workdir / "index" / generation)
    srv = Server(workdir).start()
    record_timing("served_after_s (index present)", srv.served_after)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.dialogs, page.hosts = [], set()
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: page.hosts.add(_host(request.url)))
        page.set_default_timeout(30_000)
        page.goto(server.url, wait_until="load")
        page.wait_for_selector("#question textarea")
        page.wait_for_function("document.querySelector('#status').innerText.includes('ready')", timeout=60_000)
        record_timing("ready_after_s (index present, model loaded and warmed)", time.perf_counter() - server.started)
        yield page
        browser.close()


def _host(url: str) -> str:
    parsed = urlparse(url)
    return parsed.hostname if parsed.scheme in ("http", "https", "ws", "wss") else parsed.scheme


def ask(page, question: str):
    """Type `question`, press Enter, and return the new answer (or refusal) once it is shown."""
    count = page.locator(ANSWERS).count()
    page.locator("#question textarea").fill(question)
    began = time.perf_counter()
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(f"document.querySelectorAll({ANSWERS!r}).length > {count}")
    page.ask_seconds = time.perf_counter() - began
    return page.locator(ANSWERS).nth(count)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_an_answer_shows_its_marker_and_the_highlighted_source(page):
    from app import EXAMPLES

    for example in EXAMPLES:  # offered on the empty chat
        assert page.locator("#chatbot").get_by_text(example, exact=True).is_visible()
    answer = ask(page, "How much did Huawei spend on R&D in 2018?")
    record_timing("enter_to_answer_s (browser, extractive)", page.ask_seconds)
    assert "qa-answer" in answer.get_attribute("class")
    assert "14.6 billion" in answer.locator(".qa-text").inner_text()
    marker = answer.locator("a.qa-marker").first
    assert marker.inner_text().endswith("[1]") and marker.get_attribute("href") == "#cite-1-1"
    # named for a screen reader by hidden text the chat's sanitizer keeps (it drops aria-label)
    assert marker.locator(".qa-sr").text_content() == "Source 1: Huawei redoubles efforts to rebuild trust as it enters critical period "
    source = answer.locator("details#cite-1-1")
    assert "000_6925d6d02227fd72.txt" in source.locator("summary").inner_text()
    assert source.locator("summary .qa-where").inner_text().startswith("¶")
    assert source.locator("summary mark", has_text="14.6 billion").is_visible()


def test_clicking_the_marker_or_the_source_shows_the_passage(page):
    source = page.locator("details#cite-1-1")
    passage = source.locator(".qa-passage")
    assert not passage.is_visible()
    page.locator("a.qa-marker[href='#cite-1-1']").first.click()
    passage.wait_for(state="visible")
    assert passage.locator("mark", has_text="14.6 billion").is_visible()
    assert "Last year, sales revenue was up" in passage.inner_text()  # the whole passage, not only the quote
    assert page.url.rstrip("/") == page.url.split("#")[0].rstrip("/")  # no navigation
    # the keyboard's focus follows to the source (it had stayed on the marker)
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    assert page.evaluate("document.activeElement.parentElement.id") == "cite-1-1"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"))
    source.locator("summary").click()  # the source itself toggles the passage
    passage.wait_for(state="hidden")
    source.locator("summary").click()
    passage.wait_for(state="visible")


def test_no_message_is_named_by_its_html(page):
    """Gradio names each message "bot's message: " + its content, here HTML: a screen reader heard the markup."""
    named = page.evaluate("Array.from(document.querySelectorAll('#chatbot [aria-label]')).map(e => e.getAttribute('aria-label'))")
    assert not [name[:60] for name in named if "<" in name]


def test_a_screen_reader_hears_the_question_box_s_name_and_the_status_lines(page):
    # the box had been named "Textbox Ask" and the status lines were never announced
    assert page.get_by_role("textbox", name="Your question").count() == 1
    assert page.locator("#status").get_attribute("aria-live") == "polite"
    assert page.locator(".qa-question .qa-sr").first.inner_text().strip() == "You asked:"


def test_an_empty_question_gets_a_hint_not_silence(page):
    count = page.locator(ANSWERS).count()
    page.locator("#question textarea").fill("   ")
    page.locator("#question textarea").press("Enter")
    page.get_by_text("Type a question first.").first.wait_for(timeout=10_000)
    assert page.locator(ANSWERS).count() == count  # nothing was added to the conversation


def test_a_follow_up_uses_the_conversation(page):
    first = ask(page, "Who is Ken Hu?")
    assert "Ken Hu" in first.inner_text()
    follow = ask(page, "What did he say about the EU's cybersecurity work?")
    assert "qa-answer" in follow.get_attribute("class")
    assert "great job" in follow.locator(".qa-text").inner_text()


def test_a_question_the_article_does_not_cover_looks_like_a_refusal(page):
    refusal = ask(page, "What is the capital of France?")
    assert refusal.get_attribute("class") == "qa-refusal"
    assert refusal.locator(".qa-refusal-text").inner_text().endswith(NO_ANSWER)
    assert RELATED_HEADING in refusal.inner_text()
    assert refusal.locator("details.qa-related").count() >= 1 and refusal.locator("mark, a.qa-marker").count() == 0
    style = refusal.evaluate("e => getComputedStyle(e).borderLeftWidth + ' ' + getComputedStyle(e.firstChild).color")
    assert style.startswith("4px") and style.endswith("rgb(146, 64, 14)")  # amber bar, dark amber text (4.5:1 on its tint)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "refusal.png"))


def upload(page, path: Path) -> str:
    """Add `path` in the Documents tab; the result line once it changes."""
    open_tab(page, "Documents")
    script = ("() => Array.from(document.querySelectorAll('#upload-result .qa-result, #upload-result .qa-error'))"
              ".map(e => e.innerText).join('\\n')")
    before = page.evaluate(script)
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_function(f"([before]) => ({script})() && ({script})() !== before", arg=[before])
    return page.evaluate(script)


def test_an_uploaded_document_is_indexed_and_cited_at_once(page, server, tmp_path):
    path = tmp_path / "penguins.txt"
    path.write_text(PENGUINS)
    assert "Added: penguins.txt (1 passage)" in upload(page, path)
    assert "penguins.txt" in page.locator("#documents").inner_text()
    assert (server.corpus_dir / "penguins.txt").read_text() == PENGUINS
    open_tab(page, "Chat")
    answer = ask(page, "Where do emperor penguins breed?")
    assert "sea ice around Antarctica" in answer.locator(".qa-text").inner_text()
    assert answer.locator("details.qa-source .qa-label").first.inner_text() == "Emperor penguins"
    assert answer.locator("details.qa-source .qa-file").first.inner_text() == "penguins.txt"


def test_a_quoted_table_row_is_shown_as_a_table_under_its_column_heads(page, tmp_path):
    path = tmp_path / "directory.csv"
    names = ["Anna Keller", "Boris Novak", "Chloe Sato", "Dmitri Torres", "Elena Quist"]
    path.write_text("Name,Department,Phone extension\n" + "".join(f"{n},{d},{1200 + 37 * i}\n" for i, (n, d) in
                                                                    enumerate(zip(names, ["Finance", "Legal", "Sales"] * 2))))
    assert "Added: directory.csv" in upload(page, path)
    open_tab(page, "Chat")
    answer = ask(page, "What is the phone extension of Elena Quist?")
    table = answer.locator(".qa-text table.qa-table")
    assert table.is_visible()  # rows had been shown as pipes to count
    assert table.locator("th").all_inner_texts() == ["Name", "Department", "Phone extension"]
    assert "1348" in table.locator("td").all_inner_texts() and "|" not in table.inner_text()
    assert table.locator("a.qa-marker").count() == table.locator("tr").count()  # every row keeps its marker


def test_a_quoted_code_block_is_shown_as_code(page, tmp_path):
    path = tmp_path / "tidewatch.md"
    path.write_text("# tidewatch\n\ntidewatch watches a folder of log files.\n\n## Installation\n\n"
                    "Install the latest release from PyPI:\n\n```\npip install tidewatch\n```\n\nIt needs Python 3.9 or later.\n")
    assert "Added: tidewatch.md" in upload(page, path)
    open_tab(page, "Chat")
    answer = ask(page, "How do I install tidewatch?")
    code = answer.locator(".qa-text pre.qa-code code")
    assert code.is_visible() and code.inner_text().strip() == "pip install tidewatch"  # Gradio's sanitizer keeps it
    assert "```" not in answer.locator(".qa-text").inner_text()  # its fences had shown, on one line
    assert answer.locator(".qa-text .qa-code-wrap a.qa-marker").count() == 1  # with its marker


def test_an_unsupported_upload_is_refused_in_one_line(page, server, tmp_path):
    path = tmp_path / "tool.exe"
    path.write_bytes(b"MZ\x90\x00 not a document")
    line = upload(page, path)
    assert line.startswith("Refused: tool.exe: unsupported file type .exe") and "\n" not in line.strip()
    assert page.locator("#upload-result .qa-error").inner_text().startswith("Refused: tool.exe")  # styled as an error
    page.wait_for_function("document.activeElement && document.activeElement.id === 'upload-result'")  # not the page's body
    assert not (server.corpus_dir / "tool.exe").exists()
    open_tab(page, "Chat")


def test_a_hostile_document_renders_as_inert_text(page, tmp_path):
    path = tmp_path / "festival.txt"
    path.write_text(HOSTILE)
    assert "Added: festival.txt" in upload(page, path)
    open_tab(page, "Chat")
    answer = ask(page, "When does the Zorblax festival take place?")
    answer.locator("a.qa-marker").first.click()
    passage = answer.locator(".qa-passage").first
    passage.wait_for(state="visible")
    text = passage.inner_text()
    for payload in (SCRIPT, IMG, MD_IMAGE):
        assert payload in text  # shown as the characters it is
    assert page.locator("#chatbot .message-wrap img, #chatbot .message-wrap script").count() == 0
    page.wait_for_timeout(500)  # time for a dialog or an image request, if anything had fired
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile.png"))
    assert page.dialogs == []
    assert page.hosts <= {"127.0.0.1", "data", "blob"}, page.hosts


def test_removing_a_document_takes_it_out_of_the_index_and_the_folder(page, server):
    open_tab(page, "Documents")
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="penguins.txt").click()
    page.locator("#remove").click()
    result = page.locator("#remove-result .qa-result")
    result.wait_for()
    assert result.inner_text().startswith("Removed penguins.txt from the index; its file was deleted")
    assert "penguins.txt" not in page.locator("#documents").inner_text()
    assert not (server.corpus_dir / "penguins.txt").exists()
    open_tab(page, "Chat")
    answer = ask(page, "Where do emperor penguins breed?")
    assert "penguins.txt" not in answer.inner_text()
    assert page.dialogs == [] and page.hosts <= {"127.0.0.1", "data", "blob"}


def test_a_new_chat_offers_the_examples_again_and_answers_one_when_clicked(page):
    open_tab(page, "Chat")
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function(f"document.querySelectorAll({ANSWERS!r}).length === 0")
    page.locator("#chatbot").get_by_text("Who is Ken Hu?", exact=True).click()
    answer = page.locator(ANSWERS).first
    answer.wait_for()
    assert "Ken Hu" in answer.locator(".qa-text").inner_text()
    assert answer.locator("a.qa-marker").first.get_attribute("href") == "#cite-1-1"
    assert page.dialogs == [] and page.hosts <= {"127.0.0.1", "data", "blob"}


def test_the_question_box_shows_its_focus_ring(page):
    """The README promises a visible focus ring; Gradio's own rule had hidden it."""
    page.locator("#question textarea").focus()
    assert page.evaluate("getComputedStyle(document.querySelector('#question textarea')).outlineStyle") == "solid"


def test_on_a_phone_the_documents_table_scrolls_sideways(page):
    """At 375 px the table's right columns (folder, chunks, dates) had been out of reach."""
    page.set_viewport_size({"width": 375, "height": 740})
    try:
        open_tab(page, "Documents")
        wrap = page.locator(".qa-table-wrap:has(table.qa-docs)")
        wrap.wait_for()
        assert wrap.evaluate("w => getComputedStyle(w).overflowX") == "auto"
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth && w.getBoundingClientRect().right <= window.innerWidth + 1")
    finally:
        page.set_viewport_size({"width": 1200, "height": 1000})
        open_tab(page, "Chat")


def test_the_status_says_an_upload_is_being_indexed_while_it_is(page, server, tmp_path):
    """The status had said "ready" for up to 10 s after an upload began (the timer's idle pace)."""
    path = tmp_path / "almanac.txt"
    path.write_text("Almanac\n\n" + "".join(f"Station {i} recorded {i % 37} millimetres of rain on day {i}. " for i in range(3000)))
    page.wait_for_timeout(1500)  # the timer back at its idle pace
    open_tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_function("document.querySelector('#status').innerText.includes('indexing an upload')", timeout=2_500)
    page.wait_for_function("document.querySelector('#upload-result').innerText.includes('almanac.txt')", timeout=120_000)
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="almanac.txt").click()
    page.locator("#remove").click()
    page.wait_for_function("document.querySelector('#remove-result').innerText.includes('Removed almanac.txt')")
    open_tab(page, "Chat")


def test_a_document_another_session_adds_appears_in_the_table_without_a_reload(page, server):
    """A page reloaded while its upload was indexed, or open while another session uploaded, had
    kept its documents table as it was (the status line said one document more)."""
    import requests

    open_tab(page, "Documents")
    assert "owls.txt" not in page.locator("#documents").inner_text()
    (path,) = requests.post(server.url + "gradio_api/upload", timeout=30,
                            files=[("files", ("owls.txt", b"Barn owls hunt voles over the meadow at night.\n"))]).json()
    file = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "owls.txt"}
    event = requests.post(f"{server.url}gradio_api/call/add_documents", json={"data": [[file], False]}, timeout=30)
    requests.get(f"{server.url}gradio_api/call/add_documents/{event.json()['event_id']}", timeout=120)
    page.wait_for_function("document.querySelector('#documents').innerText.includes('owls.txt')", timeout=25_000)
    removed = requests.post(f"{server.url}gradio_api/call/remove_document", json={"data": [str(server.corpus_dir / "owls.txt")]}, timeout=30)
    requests.get(f"{server.url}gradio_api/call/remove_document/{removed.json()['event_id']}", timeout=60)
    page.wait_for_function("!document.querySelector('#documents').innerText.includes('owls.txt')", timeout=25_000)
    open_tab(page, "Chat")


def test_the_conversation_survives_a_reload_until_a_new_chat(page):
    """A reload had lost the conversation without a word (and a follow-up after it, its context)."""
    open_tab(page, "Chat")
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function(f"document.querySelectorAll({ANSWERS!r}).length === 0")  # cleared, before counting answers
    answer = ask(page, "Who is Ken Hu?")
    said = answer.locator(".qa-text").inner_text()
    page.reload(wait_until="load")
    page.wait_for_selector("#question textarea")
    page.wait_for_function(f"document.querySelector('#chatbot').innerText.includes({said[:60]!r})", timeout=15_000)
    follow = ask(page, "What did he say about the EU's cybersecurity work?")  # the turn before is still its context
    assert "qa-refusal" not in (follow.get_attribute("class") or "") and "Hu" in follow.inner_text()
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function(f"document.querySelectorAll({ANSWERS!r}).length === 0")
    page.wait_for_timeout(500)  # the cleared conversation stored
    page.reload(wait_until="load")
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(2000)
    assert said[:60] not in page.locator("#chatbot").inner_text()
