"""A 127.0.0.1 HTTP server for one file, for download tests: Range and If-Range (ETag),
and an optional gate that holds the first reply after ``hold_after`` bytes."""
from __future__ import annotations

import hashlib
import http.server
import threading


class FileServer:
    def __init__(self, payload: bytes, name: str = "weights.pth", hold_after: int = 0) -> None:
        self.payload, self.hold_after, self.requests = payload, hold_after, []
        self.gate = threading.Event()  # set() lets a held reply go on
        self.holding = threading.Event()  # set while a reply waits at the gate
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                rng, if_range = self.headers.get("Range"), self.headers.get("If-Range")
                owner.requests.append((rng, if_range))
                partial = bool(rng) and if_range in (None, owner.etag)  # else: changed, send all
                start = int(rng.split("=")[1].split("-")[0]) if partial else 0
                body = owner.payload[start:]
                self.send_response(206 if partial else 200)
                if partial:
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(owner.payload) - 1}/{len(owner.payload)}")
                self.send_header("ETag", owner.etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if owner.hold_after and len(owner.requests) == 1:
                        self.wfile.write(body[:owner.hold_after])
                        self.wfile.flush()
                        owner.holding.set()
                        owner.gate.wait(30)
                        body = body[owner.hold_after:]
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client cancelled

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.payload).hexdigest()[:16] + '"'

    def __enter__(self) -> "FileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
