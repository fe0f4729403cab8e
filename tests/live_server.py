"""Running the service for real on a loopback port: `triage serve` in a subprocess, or an app under uvicorn in a thread."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.service_support import SECRETS, ServiceModel

SERVE_COMMAND = [sys.executable, "-c", "from triage.cli import app; app()", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(model: ServiceModel, database: Path, port: int, **settings: str) -> dict[str, str]:
    """Environment of a `triage serve` process: the tiny model, a SQLite file, every webhook on, `TRIAGE_*` extras."""
    env = {
        **os.environ,
        "TRIAGE_MODEL_DIR": str(model.model_dir),
        "TRIAGE_CACHE_DIR": str(model.cache_dir),
        "TRIAGE_BACKBONE_FILE": str(model.backbone_file),
        "TRIAGE_DATABASE_URL": f"sqlite:///{database}",
        "TRIAGE_PORT": str(port),
        **{f"TRIAGE_{helpdesk.upper()}_WEBHOOK_SECRET": secret for helpdesk, secret in SECRETS.items()},
    }
    env.update({f"TRIAGE_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class ServedProcess:
    """A `triage serve` subprocess; its output goes to `log` (a pipe nobody reads would stall the server)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 60) -> httpx.Response:
        """Poll `/readyz` until the server answers; fail with its output if it dies or takes longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2)
            except httpx.TransportError:
                assert self.process.poll() is None, f"the server exited:\n{self.output()}"
                assert time.monotonic() < deadline, f"the server did not start in {timeout} s:\n{self.output()}"
                time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what the database holds now is all there is."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def triage_serve(env: dict[str, str], log: Path, ready_timeout: float = 60) -> Iterator[ServedProcess]:
    """`triage serve` with `env` (see `service_env`), ready to answer; stopped on exit however the block ends."""
    with log.open("ab") as sink:
        process = subprocess.Popen(SERVE_COMMAND, env=env, stdout=sink, stderr=subprocess.STDOUT)
    served = ServedProcess(f"http://127.0.0.1:{env['TRIAGE_PORT']}", process, log)
    try:
        served.wait_ready(ready_timeout)
        yield served
    finally:
        served.stop()


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port, in a daemon thread of this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
