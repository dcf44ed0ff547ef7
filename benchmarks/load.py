"""Many chat users at once: the real server under N concurrent gradio_client sessions.

Starts `python app.py` on a free port (on a temporary copy of the project's index and article,
so nothing in the project is written; the caller's other `ASSISTANT_*` settings apply), waits
until it is ready, then runs `--clients` sessions for `--seconds`, each asking a rotating list
of the article's questions through the chat endpoint (`/chat`, conversations of up to four
turns, as the browser does) or `/ask`. Prints requests, errors, throughput and latency
percentiles; a benchmark, not a test.

    python benchmarks/load.py                      # 20 clients, 30 s, /chat
    python benchmarks/load.py --endpoint ask --clients 5 --seconds 10
    python benchmarks/load.py --url http://127.0.0.1:7860/   # an already running server
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "benchmarks" / "article_questions.jsonl").read_text().splitlines() if line.strip()]
TURNS_PER_CONVERSATION = 4


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def start_server(workdir: Path) -> tuple[subprocess.Popen, str, float]:
    """`python app.py` on a copy of the project's index; returns (process, url, seconds to serve)."""
    generation = (ROOT / "index" / "CURRENT").read_text().split()[0]
    (workdir / "index").mkdir()
    shutil.copyfile(ROOT / "index" / "CURRENT", workdir / "index" / "CURRENT")
    shutil.copytree(ROOT / "index" / generation, workdir / "index" / generation)
    shutil.copytree(ROOT / "documents", workdir / "corpus")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)  # your ASSISTANT_* settings apply, with the index and corpus of the copy
    env.update(ASSISTANT_INDEX_DIR=str(workdir / "index"), ASSISTANT_CORPUS_DIR=str(workdir / "corpus"),
               GRADIO_TEMP_DIR=str(workdir / "gradio"), PYTHONUNBUFFERED="1")
    log = open(workdir / "server.log", "wb")
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - began < 180:
        if process.poll() is not None:
            raise SystemExit(f"app.py exited:\n{(workdir / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url, time.perf_counter() - began
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("app.py did not start within 180 s")


def run(url: str, clients: int, seconds: float, endpoint: str) -> dict:
    from gradio_client import Client

    Client(url, verbose=False).predict("Who is Ken Hu?", api_name="/ask")  # waits for the index; warms
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def session(i: int) -> None:
        client = Client(url, verbose=False)
        messages: list = []
        n = i
        start.wait()
        while time.perf_counter() < stop:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            began = time.perf_counter()
            try:
                if endpoint == "chat":
                    if len(messages) >= 2 * TURNS_PER_CONVERSATION:
                        messages = []
                    messages, _ = client.predict(question, messages, api_name="/chat")
                    ok = "qa-answer" in messages[-1]["content"][0]["text"] or "qa-refusal" in messages[-1]["content"][0]["text"]
                else:
                    ok = bool(client.predict(question, api_name="/ask")["text"])
                if not ok:
                    raise RuntimeError(f"no answer shown for {question!r}")
                with lock:
                    latencies.append(time.perf_counter() - began)
            except Exception as err:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop = time.perf_counter() + seconds + 60  # placeholder until every session is connected
    start.wait()
    began = time.perf_counter()
    stop = began + seconds
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.perf_counter() - began
    return {
        "endpoint": f"/{endpoint}",
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "throughput_per_s": round(len(latencies) / elapsed, 2),
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
    }


def refuse_bad_run(parser, args) -> None:
    """A usage error for a run that cannot happen: no clients (`--clients`) or no time (`--seconds`)."""
    if args.clients < 1:
        parser.error(f"--clients {args.clients}: must be 1 or more")
    if not args.seconds > 0:
        parser.error(f"--seconds {args.seconds}: must be above 0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--endpoint", choices=("chat", "ask"), default="chat")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    refuse_bad_run(parser, args)

    process = None
    with tempfile.TemporaryDirectory(prefix="assistant-load-") as tmp:
        try:
            url, served = args.url, None
            if url is None:
                process, url, served = start_server(Path(tmp))
            result = run(url, args.clients, args.seconds, args.endpoint)
            if served is not None:
                result["server_served_after_s"] = round(served, 2)
        finally:
            if process is not None:
                process.terminate()
                process.wait(10)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['clients']} clients x {result['seconds']} s on {result['endpoint']} ({os.cpu_count()} CPU cores)")
        print(f"requests {result['requests']}, errors {result['errors']}, {result['throughput_per_s']} answers/s")
        print(f"latency p50 {result['p50_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s")
        for error in result["first_errors"]:
            print(f"error: {error}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
