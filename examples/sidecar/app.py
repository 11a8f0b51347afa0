#!/usr/bin/python3
"""A Python service in a micro mesh, through `micro sidecar` (docs/sidecar.md).

Standard library only, plus Debian's python3-websocket for the broker WebSocket. Run it with
/usr/bin/python3 next to a sidecar:

  micro sidecar --app_address 127.0.0.1:9000 --healthcheck_url http://127.0.0.1:9000/health &
  /usr/bin/python3 examples/sidecar/app.py --port 9000 --sidecar 127.0.0.1:8081

It registers itself as `greeter` through the sidecar (POST /registry with its endpoints) and
serves, over plain HTTP, what the sidecar forwards from the mesh (POST /<Endpoint>):

  Greeter.Hello    {"name"} -> {"msg": "Hello <name>"}       (a C++ or Go client calls it)
  Greeter.Add      {"a","b"} -> {"sum"}: calls the C++ `sum` service's Adder.Add through the
                   sidecar's /rpc
  Greeter.Publish  {"text"} -> publishes {"text"} on --publish_topic through the sidecar's
                   /broker WebSocket
  Greeter.Received {} -> {"messages": [...]}: what arrived on --topic over the /broker WebSocket

GET /health answers 200 (the sidecar polls it). Errors go back as go-micro error JSON, which the
sidecar hands to the caller as the call's error.
"""
import argparse
import base64
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websocket  # Debian: python3-websocket

ENDPOINTS = {
    "Greeter.Hello": ({"name": "string"}, {"msg": "string"}),
    "Greeter.Add": ({"a": "int64", "b": "int64"}, {"sum": "int64"}),
    "Greeter.Publish": ({"text": "string"}, {"published": "bool"}),
    "Greeter.Received": ({}, {"messages": "string"}),
}


def log(*args):
    print("app:", *args, file=sys.stderr, flush=True)


class MicroError(Exception):
    """An error to answer with, as go-micro's error JSON."""

    def __init__(self, code, detail, id="greeter"):
        super().__init__(detail)
        self.code, self.detail, self.id = code, detail, id

    def json(self):
        status = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
                  502: "Bad Gateway"}.get(self.code, "")
        return {"id": self.id, "code": self.code, "detail": self.detail, "status": status}


class Sidecar:
    """The sidecar's HTTP API: /registry, /rpc and /broker."""

    def __init__(self, address):
        self.address = address

    def post(self, path, body, method="POST"):
        req = urllib.request.Request(f"http://{self.address}{path}", method=method,
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as rsp:
                text = rsp.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                err = json.loads(text)
                raise MicroError(err.get("code", e.code), err.get("detail", text),
                                 err.get("id", "sidecar")) from None
            except ValueError:
                raise MicroError(e.code, text, "sidecar") from None

    def register(self, name, version, app_address):
        def value(name, fields):
            return {"name": name, "type": name,
                    "values": [{"name": k, "type": t} for k, t in fields.items()]}

        service = {
            "name": name,
            "version": version,
            "metadata": {"language": "python"},
            "endpoints": [{"name": ep, "request": value("Request", req),
                           "response": value("Response", rsp), "metadata": {}}
                          for ep, (req, rsp) in ENDPOINTS.items()],
            "nodes": [{"address": app_address}],
        }
        self.post("/registry", service)

    def call(self, service, endpoint, request):
        return self.post("/rpc", {"service": service, "endpoint": endpoint, "request": request})

    def socket(self, topic):
        return websocket.create_connection(
            f"ws://{self.address}/broker?topic={topic}", timeout=30,
            header=["Content-Type: application/json"])


class App:
    def __init__(self, args):
        self.args = args
        self.sidecar = Sidecar(args.sidecar)
        self.received = []
        self.lock = threading.Lock()
        self.publisher = None

    # --- endpoints ----------------------------------------------------------------------

    def hello(self, req):
        name = req.get("name") or ""
        if not name:
            raise MicroError(400, "name is required")
        return {"msg": "Hello " + name}

    def add(self, req):
        try:
            a, b = int(req.get("a", 0)), int(req.get("b", 0))
        except (TypeError, ValueError):
            raise MicroError(400, "a and b must be integers") from None
        answer = self.sidecar.call("sum", "Adder.Add", {"a": a, "b": b})
        return {"sum": int(answer.get("sum", 0))}  # int64 comes back as a JSON string

    def publish(self, req):
        text = req.get("text")
        if not isinstance(text, str):
            raise MicroError(400, "text is required")
        with self.lock:
            if self.publisher is None:
                self.publisher = self.sidecar.socket(self.args.publish_topic)
            self.publisher.send(json.dumps({"text": text}))
        return {"published": True}

    def messages(self, _req):
        with self.lock:
            return {"messages": list(self.received)}

    def serve(self, endpoint, req):
        handlers = {"Greeter.Hello": self.hello, "Greeter.Add": self.add,
                    "Greeter.Publish": self.publish, "Greeter.Received": self.messages}
        if endpoint not in handlers:
            raise MicroError(404, f"unknown endpoint {endpoint}")
        return handlers[endpoint](req)

    # --- the subscription ---------------------------------------------------------------

    def subscribe(self):
        """Reads the topic over the sidecar's WebSocket for as long as the app runs."""
        while True:
            try:
                ws = self.sidecar.socket(self.args.topic)
                ws.settimeout(None)
                log("subscribed to", self.args.topic)
                while True:
                    frame = json.loads(ws.recv())
                    if "Error" in frame:
                        log("broker error:", frame["Error"])
                        continue
                    body = base64.b64decode(frame.get("Body") or b"").decode(errors="replace")
                    with self.lock:
                        self.received.append(body)
                    log("received", body)
            except (OSError, websocket.WebSocketException, ValueError) as e:
                log("subscription lost:", e, "- again in 1 s")
                time.sleep(1)


def make_handler(app):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                return self.reply(200, {"status": "ok"})
            self.reply(404, MicroError(404, "not found").json())

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                req = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(req, dict):
                    raise MicroError(400, "the request must be a JSON object")
                self.reply(200, app.serve(self.path.lstrip("/"), req))
            except MicroError as e:
                self.reply(e.code if 400 <= e.code <= 599 else 500, e.json())
            except ValueError as e:
                self.reply(400, MicroError(400, f"bad JSON: {e}").json())

        def log_message(self, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--sidecar", default="127.0.0.1:8081", help="the sidecar's host:port")
    p.add_argument("--name", default="greeter")
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--topic", default="greeter.events", help="subscribed over the WebSocket")
    p.add_argument("--publish_topic", default="greeter.out", help="Greeter.Publish sends here")
    args = p.parse_args()

    app = App(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(app))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"

    # Register through the sidecar (it may still be starting).
    for attempt in range(100):
        try:
            app.sidecar.register(args.name, args.version, address)
            break
        except (OSError, MicroError) as e:
            if isinstance(e, MicroError) and e.code == 400:
                log("registration refused:", e.detail)
                return 1
            time.sleep(0.1 * min(attempt + 1, 10))
    else:
        log("the sidecar at", args.sidecar, "did not answer")
        return 1
    log(f"serving {args.name} on {address}, registered through {args.sidecar}")
    threading.Thread(target=app.subscribe, daemon=True).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
