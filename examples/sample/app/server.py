"""The sample service: a tiny HTTP server for hashiship's promotion flow.

GET /health   200 "ok", or 500 when the image carries a `broken_in` file naming
              the environment it runs in (a defect that only shows in production)
GET /version  the version baked into the image (the VERSION file beside this one,
              else APP_VERSION, which the Dockerfile sets from its VERSION argument)
GET /         "sample <version> (<environment>)"

The port comes from NOMAD_PORT_http (Nomad) or PORT (Docker); the environment
from NOMAD_META_environment (the environment file's job meta) or APP_ENV.
"""
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name, default=""):
    try:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


VERSION = read("VERSION") or os.environ.get("APP_VERSION", "unknown")
ENVIRONMENT = os.environ.get("NOMAD_META_environment") or os.environ.get("APP_ENV", "dev")
BROKEN_IN = set(read("broken_in").split())


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Sample-Version", VERSION)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/health":
            if ENVIRONMENT in BROKEN_IN:
                self.answer(500, f"unhealthy: version {VERSION} is broken in {ENVIRONMENT}")
            else:
                self.answer(200, "ok")
        elif path == "/version":
            self.answer(200, VERSION)
        else:
            self.answer(200, f"sample {VERSION} ({ENVIRONMENT})")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    # In a container python is PID 1, which has no default action for SIGTERM: exit on
    # it, so that stopping an instance does not wait out the kill timeout.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("NOMAD_PORT_http") or os.environ.get("PORT", "8080"))
    host = os.environ.get("BIND", "127.0.0.1" if "NOMAD_PORT_http" in os.environ else "0.0.0.0")
    ThreadingHTTPServer((host, port), Handler).serve_forever()
