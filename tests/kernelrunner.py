"""``KernelRunner``: runs code in a started jupyter_client kernel and collects its outputs
(the ``kernel`` fixtures of the template and assistant tests)."""

from __future__ import annotations

import queue
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Outputs:
    stdout: str = ""
    stderr: str = ""
    results: list = field(default_factory=list)  # data dicts of execute_result / display_data
    error: str | None = None

    def text(self) -> str:
        return self.stdout + "".join(r.get("text/plain", "") for r in self.results)

    def has(self, mime: str) -> bool:
        return any(mime in r for r in self.results)


class KernelRunner:
    def __init__(self, km, kc, cwd: Path):
        self.km, self.kc, self.cwd = km, kc, cwd

    def run(self, code: str, timeout: float = 60) -> Outputs:
        msg_id = self.kc.execute(code, store_history=False)
        out = Outputs()
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"kernel did not finish within {timeout}s running:\n{code}"
                ) from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = msg["msg_type"], msg["content"]
            if t == "stream":
                if c["name"] == "stdout":
                    out.stdout += c["text"]
                else:
                    out.stderr += c["text"]
            elif t in ("execute_result", "display_data"):
                out.results.append(c["data"])
            elif t == "error":
                out.error = f"{c['ename']}: {c['evalue']}\n" + "\n".join(c["traceback"])
            elif t == "status" and c["execution_state"] == "idle":
                return out
