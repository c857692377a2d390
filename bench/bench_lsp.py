"""The language server's latency as an editor sees it: ``lrlint server`` over stdio, raw JSON-RPC.

A temporary git repository holds a committed SGD config; the script opens it, then sends N edits
(the batch size toggles between two values, each a full change) with the debounce set to 0, and times
each edit from the ``didChange`` write to the ``publishDiagnostics`` of that version. The first check
(cold: imports, profiles, git's first calls) is reported apart from the warm ones.

    python bench/bench_lsp.py --edits 50            # the figures in docs/performance.md (editor section)
    python bench/bench_lsp.py --show                # also print every message the server sent
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = (
    "# ResNet-50 on ImageNet, 8 GPUs\n"
    "data:\n  root: /data/imagenet\n  num_workers: 8\n"
    "train:\n  batch_size: {bs}\n  devices: 8\n  epochs: 90\n  warmup_epochs: 5\n"
    "  optimizer:\n    name: sgd\n    lr: 0.1\n    momentum: 0.9\n    weight_decay: 0.0001\n"
    "  scheduler:\n    milestones: [30, 60, 80]\n"
)


class Server:
    def __init__(self, cwd: Path, show: bool):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.p = subprocess.Popen(
            [sys.executable, "-m", "lrlint", "server"], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.show = show
        self.next_id = 0

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        msg: dict = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()
        return msg.get("id")

    def read(self) -> dict:
        length = 0
        while (line := self.p.stdout.readline().strip()) != b"":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        msg = json.loads(self.p.stdout.read(length))
        if self.show:
            print("<-", json.dumps(msg))
        return msg

    def until(self, pred) -> dict:
        while True:
            msg = self.read()
            if msg.get("method") == "client/registerCapability":
                self.p.stdin.write(self._reply(msg["id"]))
                self.p.stdin.flush()
            elif pred(msg):
                return msg

    @staticmethod
    def _reply(mid) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", "id": mid, "result": None}).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edits", type=int, default=50)
    ap.add_argument("--show", action="store_true", help="print every message the server sends")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lrlint-bench-lsp-"))
    (tmp / "configs").mkdir()
    cfg = tmp / "configs" / "train.yaml"
    cfg.write_text(CONFIG.format(bs=32))
    git(tmp, "init", "-q", "-b", "main")
    git(tmp, "-c", "user.email=b@x", "-c", "user.name=b", "add", "-A")
    git(tmp, "-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "tuned")
    uri = cfg.as_uri()
    s = Server(tmp, a.show)
    init = {
        "processId": os.getpid(),
        "rootUri": tmp.as_uri(),
        "capabilities": {},
        "initializationOptions": {"debounce": 0},
    }
    rid = s.send("initialize", init, request=True)
    s.until(lambda m: m.get("id") == rid)
    s.send("initialized", {})

    def published(version: int):
        return lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version

    t0 = time.perf_counter()
    item = {"uri": uri, "languageId": "yaml", "version": 1, "text": CONFIG.format(bs=32)}
    s.send("textDocument/didOpen", {"textDocument": item})
    s.until(published(1))
    cold = time.perf_counter() - t0
    warm, counts = [], []
    for i in range(a.edits):
        v = i + 2
        text = CONFIG.format(bs=64 if i % 2 == 0 else 32)
        t0 = time.perf_counter()
        s.send(
            "textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": text}]}
        )
        msg = s.until(published(v))
        warm.append(time.perf_counter() - t0)
        counts.append(len(msg["params"]["diagnostics"]))
    rid = s.send("shutdown", None, request=True)
    s.until(lambda m: m.get("id") == rid)
    s.send("exit", None)
    s.p.wait(timeout=10)
    ms = sorted(w * 1000 for w in warm)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    print(f"first check after didOpen (cold): {cold * 1000:.0f} ms")
    print(
        f"warm edit -> diagnostics, {len(ms)} edits: median {statistics.median(ms):.1f} ms, "
        f"p90 {p90:.1f} ms, max {ms[-1]:.1f} ms"
    )
    print(f"diagnostics per edit: {sorted(set(counts))} (batch 64: LR001 vs git HEAD; batch 32: none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
