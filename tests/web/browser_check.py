#!/usr/bin/python3
"""The web dashboard in a real browser: headless Chromium driven through chromedriver's
WebDriver HTTP API (standard library only).

usage: browser_check.py --url http://127.0.0.1:P --artifacts DIR --live-cmd 'cmd ...'
                        --xss NAME [--xss NAME...]

Checks: greeter is listed; the list updates live when a service comes and goes (--live-cmd
registers `live.greeter` while it runs and deregisters it on SIGTERM); search filters; the call form
answers "Hello John" (and shows an error for a bad request); every --xss service name shows as
text and no script from it runs; the service and registry pages; a phone-width layout.
Screenshots go to DIR. Prints one line per check; exit 0 when all pass, 1 on the first failure
(with a screenshot failure.png), 2 when chromium/chromedriver are missing.

chromedriver runs in a session of its own; at the end the session is deleted and chromedriver
and every process it started are killed by PID (never by name).
"""
import argparse
import base64
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
STEP_TIMEOUT = 20.0  # seconds for one wait in the page
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    """Every process below pid (from /proc), children first."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class WebDriver:
    def __init__(self, log_path):
        self.port = free_port()
        self.log = open(log_path, "w")
        self.profile = tempfile.mkdtemp(prefix="micro-web-chromium-")
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = None
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.call("GET", "/status", session=False)
                break
            except (OSError, Failure):
                time.sleep(0.1)
        else:
            raise Failure("chromedriver did not start")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 20000, "script": 10000},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                         "--disable-background-networking", "--disable-sync",
                         "--window-size=1280,800", "--hide-scrollbars",
                         "--force-device-scale-factor=1", f"--user-data-dir={self.profile}"],
            },
        }}}
        value = self.call("POST", "/session", caps, session=False)
        self.session = value["sessionId"]

    def call(self, method, path, body=None, session=True):
        url = self.base + (f"/session/{self.session}" if session else "") + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as rsp:
                return json.loads(rsp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            try:
                err = json.loads(e.read()).get("value", {})
            except ValueError:
                err = {}
            raise Failure(f"webdriver {method} {path}: {e.code} {err.get('error')}: "
                          f"{str(err.get('message', ''))[:300]}") from None

    def close(self):
        pids = descendants(self.proc.pid)
        if self.session:
            try:
                self.call("DELETE", "")
            except (OSError, Failure):
                pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in pids:  # chromium and its helpers, if any outlived the session
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    # --- page helpers ---------------------------------------------------------------------

    def go(self, url):
        self.call("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find_all(self, css):
        return self.call("POST", "/elements", {"using": "css selector", "value": css})

    def wait(self, what, predicate, timeout=STEP_TIMEOUT):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.1)
        raise Failure(f"timed out waiting for {what} (last: {last!r})")

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def window(self, width, height):
        self.call("POST", "/window/rect", {"width": width, "height": height})


WIDEST = """
let worst = null, right = 0;
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.right > right) { right = r.right; worst = e.tagName + '.' + e.className; }
}
return worst + ' ends at ' + right + 'px';
"""


def check_width(d, page):
    overflow = d.js("return document.documentElement.scrollWidth - window.innerWidth;")
    if overflow > 0:
        raise Failure(f"the {page} is {overflow}px wider than a phone ({d.js(WIDEST)})")


def service_names(d):
    return d.js("return [...document.querySelectorAll('#services tbody tr')]"
                ".map(tr => tr.dataset.service);")


def link_texts(d):
    return d.js("return [...document.querySelectorAll('a.service-link')]"
                ".map(a => a.textContent);") or []


def check(name):
    print(f"PASS {name}", flush=True)


def run(args):
    os.makedirs(args.artifacts, exist_ok=True)
    d = WebDriver(os.path.join(args.artifacts, "chromedriver.log"))
    live = None
    try:
        # Anything a registry string could make the page run would set this or open a dialog.
        d.go(args.url + "/")
        d.wait("greeter in the list", lambda: "greeter" in (service_names(d) or []))
        d.wait("live updates on", lambda: d.js("return document.getElementById('live').textContent") == "live")
        check("greeter is listed (and the event stream is live)")
        d.screenshot(os.path.join(args.artifacts, "services.png"))

        # Registry strings are text, never markup: the names show exactly, nothing ran.
        # They were registered after the greeter, so on a loaded machine their watch events can
        # reach the page a moment later: wait for them as for the greeter.
        try:
            d.wait("the markup names as links", lambda: all(x in link_texts(d) for x in args.xss))
        except Failure:
            raise Failure(f"services {args.xss!r} not shown as text; links: {link_texts(d)!r}")
        scripts = d.js("return document.querySelectorAll('main script, main img, main iframe').length;")
        if scripts != 0:
            raise Failure(f"{scripts} elements made from registry strings")
        if d.js("return window.__xss === undefined;") is not True:
            raise Failure("a script from a service name ran")
        check("service names with markup show as text")

        # Live: a service comes, then goes, with no reload.
        marker = d.js("window.__noReload = 1; return 1;")
        live = subprocess.Popen(shlex.split(args.live_cmd), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        d.wait("live.greeter to appear", lambda: "live.greeter" in (service_names(d) or []))
        live.terminate()  # deregisters on SIGTERM
        live.wait(timeout=15)
        live = None
        d.wait("live.greeter to go", lambda: "live.greeter" not in (service_names(d) or []))
        if d.js("return window.__noReload;") != marker:
            raise Failure("the page reloaded")
        check("the list follows services coming and going (no reload)")

        # Search.
        d.js("const s = document.getElementById('search'); s.value = 'gree';"
             "s.dispatchEvent(new Event('input'));")
        shown = service_names(d)
        if "greeter" not in shown or any("gree" not in n.lower() for n in shown):
            raise Failure(f"search 'gree' shows {shown!r}")
        check("search filters the list")

        # The call form.
        d.go(args.url + "/#/service/greeter")
        form = "section.endpoint[data-endpoint='Greeter.Hello']"
        d.wait("the Greeter.Hello form", lambda: d.find_all(form + " textarea"))
        prefilled = d.js(f"return document.querySelector(\"{form} textarea\").value;")
        if json.loads(prefilled) != {"name": ""}:
            raise Failure(f"the request is not pre-filled from the registry: {prefilled!r}")
        textarea = d.find_all(form + " textarea")[0][ELEMENT]
        d.call("POST", f"/element/{textarea}/clear", {})
        d.call("POST", f"/element/{textarea}/value", {"text": '{"name": "John"}'})
        button = d.find_all(form + " button.call")[0][ELEMENT]
        d.call("POST", f"/element/{button}/click", {})
        answer = d.wait("the answer", lambda: d.js(
            f"const a = document.querySelector(\"{form} pre.answer\"); return a && a.textContent;"))
        if "Hello John" not in answer:
            raise Failure(f"answer {answer!r}")
        latency = d.js(f"return document.querySelector(\"{form} .latency\").textContent;")
        if not latency.endswith(" ms"):
            raise Failure(f"latency {latency!r}")
        check(f"the call form answers Hello John ({latency})")
        d.screenshot(os.path.join(args.artifacts, "call.png"))

        # An error is shown, not swallowed.
        d.call("POST", f"/element/{textarea}/clear", {})
        d.call("POST", f"/element/{textarea}/value", {"text": '{"name": ""}'})
        d.call("POST", f"/element/{button}/click", {})
        error = d.wait("the error", lambda: d.js(
            f"const a = document.querySelector(\"{form} pre.error\"); return a && a.textContent;"))
        if "name is required" not in error:
            raise Failure(f"error {error!r}")
        check("a failing call shows the service's error")

        # A service page for a markup name: the title is text.
        for xss in args.xss[:1]:
            d.go(args.url + "/#/service/" + urllib.parse.quote(xss, safe=""))
            title = d.wait("the service title", lambda: d.js(
                "const h = document.getElementById('service-name'); return h && h.textContent;"))
            if title != xss:
                raise Failure(f"title {title!r}")
            if d.js("return window.__xss === undefined && "
                    "document.querySelectorAll('main script, main img').length === 0;") is not True:
                raise Failure("markup from the registry became elements")
            d.screenshot(os.path.join(args.artifacts, "markup-name.png"))
        check("a service page shows a markup name as text")

        # The registry as JSON.
        d.go(args.url + "/#/registry")
        text = d.wait("the registry JSON", lambda: d.js(
            "const p = document.getElementById('registry-json'); "
            "return p && p.textContent.startsWith('{') && p.textContent;"))
        services = json.loads(text)["services"]
        if "greeter" not in [s["name"] for s in services]:
            raise Failure("greeter not in the registry view")
        check("the registry view shows the registry as JSON")
        d.screenshot(os.path.join(args.artifacts, "registry.png"))

        # Phone width: nothing wider than the screen.
        d.window(390, 844)
        d.go(args.url + "/")
        d.wait("the list at phone width", lambda: "greeter" in (service_names(d) or []))
        check_width(d, "services page")
        d.screenshot(os.path.join(args.artifacts, "services-phone.png"))
        d.go(args.url + "/#/service/greeter")
        d.wait("the form at phone width", lambda: d.find_all(form + " textarea"))
        check_width(d, "service page")
        d.screenshot(os.path.join(args.artifacts, "service-phone.png"))
        check("usable at phone width")

        if d.js("return window.__xss === undefined;") is not True:
            raise Failure("a script from a service name ran")
        return 0
    except Failure as f:
        print(f"FAIL {f}", flush=True)
        try:
            d.screenshot(os.path.join(args.artifacts, "failure.png"))
        except (OSError, Failure):
            pass
        return 1
    finally:
        if live is not None:
            live.kill()
            live.wait()
        d.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--live-cmd", required=True)
    parser.add_argument("--xss", action="append", default=[])
    args = parser.parse_args()
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            print(f"SKIP {tool} is not installed (scripts/deps.sh installs chromium and "
                  f"chromium-driver)", flush=True)
            return 2
    try:
        return run(args)
    except Failure as f:
        print(f"FAIL {f}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
