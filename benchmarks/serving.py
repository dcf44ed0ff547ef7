"""The app while it indexes: start-up, then `/ask` latency before and during a 1 MB upload.

Starts `python app.py` (on a temporary copy of the shipped index and article, as `load.py`
does) and reports, in one run:

- start-up: seconds until the page is served, and until the first answer arrives;
- `/ask` p50/p95 for one client asking the article's questions back to back, first with the
  server idle (baseline), then while a second client uploads a text file of `--upload-mb` MiB
  (real sentences: the xquad_en documents repeated) through `/add_documents`;
- the upload's own duration.

    python benchmarks/serving.py
    python benchmarks/serving.py --upload-mb 0.25 --baseline-seconds 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.evaldata import materialise  # noqa: E402
from benchmarks.load import QUESTIONS, percentile, start_server  # noqa: E402


def upload_text(folder: Path, mib: float) -> Path:
    corpus = materialise("xquad_en", folder / "xquad")
    text = "\n\n".join(Path(p).read_text("utf-8") for p in sorted(corpus.doc_of))
    size = int(mib * (1 << 20))
    body = (text * (size // len(text) + 1))[:size]
    path = folder / "upload-1mb.txt"
    path.write_text(body, "utf-8")
    return path


def ask_until(client, stop: threading.Event | float, out: list[float]) -> None:
    n = 0
    while not (stop.is_set() if isinstance(stop, threading.Event) else time.perf_counter() > stop):
        began = time.perf_counter()
        result = client.predict(QUESTIONS[n % len(QUESTIONS)], api_name="/ask")
        assert result["text"], result
        out.append((time.perf_counter() - began) * 1000)
        n += 1


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1), "p95_ms": round(percentile(values, 0.95), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upload-mb", type=float, default=1.0)
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory(prefix="assistant-serving-") as tmp:
        work = Path(tmp)
        upload = upload_text(work, args.upload_mb)
        began = time.perf_counter()
        process, url, served = start_server(work)
        try:
            client = Client(url, verbose=False)
            client.predict("Who is Ken Hu?", api_name="/ask")  # waits for the index to be ready
            first = time.perf_counter() - began
            idle: list[float] = []
            ask_until(client, time.perf_counter() + args.baseline_seconds, idle)

            done, during, result = threading.Event(), [], {}

            def add() -> None:
                t0 = time.perf_counter()
                result["lines"] = Client(url, verbose=False).predict([handle_file(str(upload))], False,
                                                                     api_name="/add_documents")
                result["seconds"] = time.perf_counter() - t0
                done.set()

            uploader = threading.Thread(target=add)
            uploader.start()
            ask_until(client, done, during)
            uploader.join()
        finally:
            process.terminate()
            process.wait(10)
    report = {"served_after_s": round(served, 2), "first_answer_after_s": round(first, 2),
              "ask_idle": summary(idle), "ask_during_upload": summary(during),
              "upload_mib": args.upload_mb, "upload_s": round(result["seconds"], 1)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
