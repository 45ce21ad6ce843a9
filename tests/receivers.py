"""The receiving ends notify delivers to in tests: a real SMTP server (touchstone's MailCatcher)
and a real HTTP webhook receiver that checks signatures and counts idempotency keys."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from touchstone.notify.channels import IDEMPOTENCY_HEADER

SECRET = "whsec_" + base64.b64encode(b"test-webhook-secret-of-32-bytes!").decode()


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that answers each POST with the next scripted status (200 once
    the script runs out), verifying the signature; it keeps every request it accepted."""

    def __init__(self, script: list[int] | None = None, secret: str = SECRET) -> None:
        self.script = list(script or [])
        self.verifier = Webhook(secret)  # as a receiver in any language would, by the spec
        self.accepted: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.refused: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.answer(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/touchstone"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        try:
            self.verifier.verify(body, headers, json_parse=False)
            signed = True
        except WebhookVerificationError:
            signed = False
        with self.lock:
            status = self.script.pop(0) if self.script else 200
            if not signed:
                status = 401
            if 200 <= status < 300:
                self.accepted.append((headers, json.loads(body)))
            else:
                self.refused.append(status)
        return status

    def by_key(self) -> Counter[str]:
        """How many times each idempotency key was accepted."""
        with self.lock:
            return Counter(h[IDEMPOTENCY_HEADER] for h, _ in self.accepted)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
