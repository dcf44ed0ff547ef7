"""Soak: the real app for minutes under chat users while documents come and go.

Starts `python app.py` (benchmarks/load.py's `start_server`: a temporary copy of the shipped index
and article, nothing in the project written), then for `--seconds` runs `--clients` chat sessions
(load.py's `run`) while one more client loops: upload a new document, upload a different one
under the same name with replace=True, ask about it, remove it. Reports errors (must be 0),
answer p50/p95, the server's resident memory at start and end, and whether the index and the
uploads folder agree at the end. A benchmark, not a test (not in CI).

    python benchmarks/soak.py                    # 10 clients, 10 minutes
    python benchmarks/soak.py --seconds 60       # a short run
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import refuse_bad_run, run, start_server  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def churn(url: str, workdir: Path, stop: threading.Event, outcome: dict) -> None:
    """Upload, replace, ask about and remove one document after another until `stop`."""
    import requests
    from gradio_client import Client

    client = Client(url, verbose=False)
    n = 0

    def upload(name: str, text: str, replace: bool) -> str:
        (path,) = requests.post(url + "gradio_api/upload", files=[("files", (name, text.encode()))], timeout=60).json()
        result = client.predict([{"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}], replace,
                                api_name="/add_documents")
        return html.unescape(result[1])

    while not stop.is_set():
        n += 1
        name = f"soak-{n}.txt"
        try:
            first = upload(name, f"Soak note {n}\n\nThe lighthouse number {n} is painted red.\n", False)
            if f"Added: {name}" not in first:
                raise RuntimeError(f"upload: {first}")
            second = upload(name, f"Soak note {n}\n\nThe lighthouse number {n} is painted green.\n", True)
            if f"Updated: {name}" not in second:
                raise RuntimeError(f"replace: {second}")
            answer = client.predict(f"What colour is lighthouse number {n} painted?", api_name="/ask")
            if "green" not in answer["text"]:
                outcome["stale_answers"] = outcome.get("stale_answers", 0) + 1
            removed = html.unescape(client.predict(str(workdir / "corpus" / name), api_name="/remove_document")[0])
            if f"Removed {name}" not in removed:
                raise RuntimeError(f"remove: {removed}")
            outcome["cycles"] = outcome.get("cycles", 0) + 1
        except Exception as err:  # noqa: BLE001 - counted and reported
            outcome.setdefault("errors", []).append(f"{type(err).__name__}: {err}"[:300])


def agreement(workdir: Path) -> dict:
    from assistant.store.index import Index

    indexed = {os.path.basename(f.source) for f in Index.load(workdir / "index").manifest.files}
    on_disk = {p.name for p in (workdir / "corpus").iterdir() if p.is_file()}
    return {"indexed_not_on_disk": sorted(indexed - on_disk), "on_disk_not_indexed": sorted(on_disk - indexed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    refuse_bad_run(parser, args)
    with tempfile.TemporaryDirectory(prefix="assistant-soak-") as tmp:
        workdir = Path(tmp)
        process, url, served = start_server(workdir)
        try:
            from gradio_client import Client

            Client(url, verbose=False).predict("Who is Ken Hu?", api_name="/ask")  # ready and warm
            rss_start = rss_mib(process.pid)
            stop, outcome = threading.Event(), {}
            churner = threading.Thread(target=churn, args=(url, workdir, stop, outcome), daemon=True)
            churner.start()
            chat = run(url, args.clients, args.seconds, "chat")
            stop.set()
            churner.join(120)
            result = {
                "clients": args.clients, "seconds": chat["seconds"], "cpu_cores": os.cpu_count(),
                "chat_requests": chat["requests"], "chat_errors": chat["errors"], "first_chat_errors": chat["first_errors"],
                "answer_p50_s": chat["p50_s"], "answer_p95_s": chat["p95_s"],
                "churn_cycles": outcome.get("cycles", 0), "churn_errors": len(outcome.get("errors", [])),
                "first_churn_errors": outcome.get("errors", [])[:3], "stale_answers": outcome.get("stale_answers", 0),
                "rss_start_mib": rss_start, "rss_end_mib": rss_mib(process.pid),
            } | agreement(workdir)
        finally:
            process.terminate()
            process.wait(10)
    print(json.dumps(result, indent=2))
    clean = not (result["chat_errors"] or result["churn_errors"] or result["indexed_not_on_disk"] or result["on_disk_not_indexed"])
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
