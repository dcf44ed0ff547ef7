"""The browser chat: `python app.py` serves it on http://127.0.0.1:7860.

The UI is built in `build()`; `demo` is module-level so `gradio app.py` reloads work. The index
loads once, at start; a missing index is built from the default corpus first, with a message.
"""

from __future__ import annotations

import argparse
import html
import os
import sys

import assistant  # noqa: F401  (sets the offline environment before Gradio is imported)
from assistant.config import Settings

import gradio as gr  # noqa: E402

SETTINGS = Settings.from_env()
EXAMPLES = [
    "How much did Huawei spend on research and development in 2018?",
    "Who is Ken Hu?",
    "What did Ken Hu say about the EU's cybersecurity work?",
]


def ensure_index(settings: Settings = SETTINGS) -> str:
    """Load the index, building it from the default corpus when it is missing or unusable."""
    from assistant.index import Index, IndexProblem
    from assistant.indexing import rebuild_index

    try:
        Index.load(settings.index_dir)
        return "index ready"
    except IndexProblem as problem:
        print(f"{problem}\nBuilding the index from {settings.corpus_dir} ...", file=sys.stderr, flush=True)
    report = rebuild_index(None, settings.index_dir, settings=settings, progress=True)
    print(report.summary(), file=sys.stderr, flush=True)
    return report.summary()


def respond(message: str, history: list) -> str:
    """Answer with the passages that match, each with its source (escaped: passages are data)."""
    from assistant.retrieval import retrieve

    if not message or not message.strip():
        return "Please type a question."
    hits = retrieve(message, k=3, index_dir=SETTINGS.index_dir, settings=SETTINGS)
    if not hits:
        return "The documents hold no passage about that."
    parts = []
    for n, hit in enumerate(hits, start=1):
        text = html.escape(" ".join(hit.text.split()))
        parts.append(f"**[{n}] {html.escape(hit.label)}**\n\n> {text}")
    return "\n\n".join(parts)


def build() -> gr.Blocks:
    return gr.ChatInterface(
        respond,
        title="Document assistant",
        description="Ask about the indexed documents; every passage shows where it came from.",
        examples=EXAMPLES,
        api_name="respond",
    )


demo = build()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the document chat.")
    parser.add_argument("--host", default=os.environ.get("ASSISTANT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ASSISTANT_PORT", "7860")))
    args = parser.parse_args(argv)
    ensure_index()
    demo.launch(server_name=args.host, server_port=args.port, share=False, show_error=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
