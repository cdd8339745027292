"""A real ``gatekeeper serve`` process on a free loopback port, for tests and bench."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
CONFIG_VARIABLES = (
    "INCIDENT_BACKEND",
    "DATABASE_URL",
    "INCIDENT_JSONL_DIR",
    "INCIDENT_ARTIFACTS_DIR",
    "GATEKEEPER_POLICY",
    "GATEKEEPER_AGENT",
    "GATEKEEPER_NOW",
    "GATEKEEPER_KEYS_FILE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(extra or {})
    return env


@dataclass
class LiveServer:
    """``gatekeeper [global args] serve`` running until :meth:`stop`."""

    global_args: Sequence[str]
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    log: Path | None = None
    cwd: Path | None = None  # reports and other relative paths land here, not in the repo
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> LiveServer:
        args = [sys.executable, "-m", "gatekeeper", *self.global_args, "serve"]
        args += ["--port", str(self.port), "--workers", str(self.workers)]
        if self.log is None:
            self.process = subprocess.Popen(
                args, env=clean_environment(self.env), stderr=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, cwd=self.cwd,
            )  # fmt: skip
        else:
            with self.log.open("wb") as stderr:
                self.process = subprocess.Popen(
                    args, env=clean_environment(self.env), stderr=stderr,
                    stdout=subprocess.DEVNULL, cwd=self.cwd,
                )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.logs()}")
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            return self
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s: {self.logs()}")

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
