"""Loopback load test of `triage serve`: start it on a free port, POST single short complaints, report latency.

    .venv/bin/python -m bench.http_load [--model DIR] [--requests 200] [--concurrency 1,4] [--seconds 60]

Bounded in requests and time per concurrency level; only 127.0.0.1 is ever contacted; the server is stopped at
the end. Prints start-up time (to /readyz), requests/s, p50/p95/p99 latency, errors and the server's RSS.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HOST = "127.0.0.1"
READY_TIMEOUT_S = 300.0


@dataclass
class Server:
    port: int
    key: str
    process: subprocess.Popen[bytes]
    startup_s: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _triage_command() -> list[str]:
    beside = Path(sys.executable).parent / "triage"
    found = str(beside) if beside.exists() else shutil.which("triage")
    if found is None:
        raise RuntimeError("the `triage` command is not installed")
    return [found]


def serve_available() -> bool:
    """Whether this checkout's command line has `triage serve`."""
    done = subprocess.run([*_triage_command(), "serve", "--help"], capture_output=True, check=False)
    return done.returncode == 0


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def running_server(model_dir: Path) -> Iterator[Server]:
    """`triage serve` on a free loopback port with a throwaway database and ingest key; stopped on exit."""
    with tempfile.TemporaryDirectory() as folder:
        key = secrets.token_hex(24)
        keys_file = Path(folder) / "keys.txt"
        keys_file.write_text(f"ingest:{key}\n", encoding="utf-8")
        port = _free_port()
        env = {
            **os.environ,
            "TRIAGE_HOST": HOST,
            "TRIAGE_PORT": str(port),
            "TRIAGE_MODEL_DIR": str(model_dir),
            "TRIAGE_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
            "TRIAGE_API_KEYS_FILE": str(keys_file),
        }
        started = time.perf_counter()
        log = (Path(folder) / "server.log").open("wb")
        process = subprocess.Popen([*_triage_command(), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not _ready(port):
                if process.poll() is not None or time.perf_counter() - started > READY_TIMEOUT_S:
                    log.flush()
                    tail = (Path(folder) / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the service did not become ready:\n{tail}")
                time.sleep(0.2)
            yield Server(port, key, process, time.perf_counter() - started)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def rss_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def load(server: Server, texts: list[str], concurrency: int, requests: int, seconds: float) -> dict[str, float]:
    """`requests` POST /v1/classify calls from `concurrency` threads (keep-alive), stopping after `seconds`."""
    numbers = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}

    def worker() -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    number = next(numbers)
                if number >= requests:
                    return
                body = json.dumps({"text": texts[number % len(texts)], "channel": "chat"})
                began = time.perf_counter()
                connection.request("POST", "/v1/classify", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                with lock:
                    latencies.append(time.perf_counter() - began)
                    if response.status >= 300:
                        errors.append(response.status)
        finally:
            connection.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    percentiles = np.percentile(latencies, [50, 95, 99]) * 1000 if latencies else [float("nan")] * 3
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": len(errors),
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(percentiles[0]),
        "p95_ms": float(percentiles[1]),
        "p99_ms": float(percentiles[2]),
    }


def load_test_service(model_dir: Path, texts: list[str], levels: list[int], requests: int, seconds: float) -> None:
    """Start the service, load it at each concurrency level, print the results."""
    from rich.console import Console
    from rich.table import Table

    if not serve_available():
        print("HTTP load test skipped: this checkout has no `triage serve`")
        return
    with running_server(model_dir) as server:
        rows = [load(server, texts, level, requests, seconds) for level in levels]
        memory = rss_mb(server.process.pid)
    table = Table(
        title=f"triage serve on loopback: ready in {server.startup_s:.1f} s, "
        f"RSS {memory['VmRSS']:.0f} MB (peak {memory['VmHWM']:.0f} MB), single short complaints"
    )
    for column in ("concurrency", "requests", "errors", "requests/s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["concurrency"]),
            str(row["requests"]),
            str(row["errors"]),
            f"{row['requests_per_s']:.1f}",
            *(f"{row[name]:.0f}" for name in ("p50_ms", "p95_ms", "p99_ms")),
        )
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> None:
    from bench.texts import sample_texts
    from triage.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=settings.model_dir, help="model directory")
    parser.add_argument("--corpus", type=Path, default=settings.corpus_dir, help="corpus folder (its */test.jsonl)")
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency level")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated concurrency levels")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound per concurrency level")
    args = parser.parse_args(argv)
    texts = sample_texts(args.corpus, chats=64, emails=0, seed=1)
    levels = [int(level) for level in args.concurrency.split(",")]
    load_test_service(args.model, texts, levels, args.requests, args.seconds)


if __name__ == "__main__":
    main()
