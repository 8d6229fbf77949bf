#!/usr/bin/env python3
"""dashboard_test: the web dashboard in a real browser (Chromium, headless,
driven by Selenium), against a real sje-server and sje-worker of its own on
free loopback ports, with authentication on.

It checks that the overview's counts change as jobs run (live, without a
reload), that a filter narrows the job list, that a failed job's page shows
its error and attempts and that re-running it from the page makes it
succeed, that a workflow run's nodes change colour as the run goes on, that
a read-only key sees no action buttons, and that a forged action (a form
posted to the server from a page of another origin) is refused. Screenshots
of the overview, a job, a workflow run and the workers page go to the
directory given as the second argument.

Usage: dashboard_test.py BIN_DIR SCREENSHOT_DIR  (SJE_PLUGIN_PATH set)
Exits 77 (skipped) only when Chromium, its driver or Selenium is absent.
Every wait polls for a state with a deadline; nothing sleeps and hopes.
"""
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SKIP = 77


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = find_chromium()
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    webdriver = None
if CHROMIUM is None or DRIVER is None or webdriver is None:
    print("SKIP: chromium, chromedriver or python3-selenium is not installed")
    sys.exit(SKIP)

BIN = os.path.abspath(sys.argv[1])
SHOTS = os.path.abspath(sys.argv[2])
os.makedirs(SHOTS, exist_ok=True)
TMP = tempfile.mkdtemp(prefix="sje-browser.")
PROCS = []
CHECKS = 0
T0 = time.monotonic()


def check(what, cond):
    """Counts a check. A callable cond reads the page: it is polled (a
    live page re-renders under the reader) until it holds, for 5 s."""
    global CHECKS
    CHECKS += 1
    if callable(cond):
        try:
            cond = until(what, cond, 5.0)
        except AssertionError:
            cond = False
    if not cond:
        raise AssertionError(what)
    print("ok %d - %s (%.1f s)" % (CHECKS, what, time.monotonic() - T0))


def until(what, fn, timeout=15.0):
    """Polls fn until it returns a true value (returned), or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # the page may be re-rendering
            last = e
        time.sleep(0.05)
    raise AssertionError("timed out waiting: %s (last: %r)" % (what, last))


def key():
    return hashlib.sha256(os.urandom(16)).hexdigest()[:32]


ADMIN, READER, WORKER = "adm-" + key(), "rd-" + key(), "wk-" + key()


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


def write_config():
    flaky = os.path.join(TMP, "flaky.sh")
    with open(flaky, "w") as f:
        # Fails the first time it runs for a marker, succeeds after.
        f.write('if [ -e "$1" ]; then echo \'{"ok":true}\'; exit 0; fi\n'
                ': >"$1"\necho "the first attempt fails on purpose" >&2\n'
                'exit 3\n')
    cfg = os.path.join(TMP, "sje.yaml")
    with open(cfg, "w") as f:
        f.write("""security:
  auth:
    api_keys:
      - {name: ops, sha256: "%s", scopes: [admin]}
      - {name: viewer, sha256: "%s", scopes: [read]}
      - {name: workers, sha256: "%s", scopes: [worker]}
tasks:
  functions:
    flaky:
      command: ["/bin/sh", "%s", "%s"]
workflows:
  diamond:
    - {name: start, function: sleep, params: {seconds: 1.5}}
    - {name: left, function: echo, after: [start]}
    - {name: right, function: sleep, after: [start], params: {seconds: 0.5}}
    - {name: join, function: collect, after: [left, right]}
monitoring:
  check_interval_s: 1
  alerts:
    - {name: workers-up, when: "workers_online >= 1", notify: log}
plugins:
  - {name: core}
  - {name: exec}
""" % (sha(ADMIN), sha(READER), sha(WORKER), flaky,
            os.path.join(TMP, "flaky.marker")))
    return cfg


def start(args, env, log):
    out = open(os.path.join(TMP, log), "ab")
    p = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in PROCS:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Api:
    def __init__(self, url, k):
        self.url, self.key = url, k

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        req.add_header("Authorization", "Bearer " + self.key)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def state(self, tid):
        return self.call("GET", "/status/" + tid)[1].get("state")


def main():
    cfg = write_config()
    data = os.path.join(TMP, "server")
    env = dict(os.environ, SJE_CONFIG=cfg, SJE_SERVER_DATA_DIR=data,
               SJE_SERVER_RPC_URL="tcp://127.0.0.1:0",
               SJE_SERVER_EVENTS_URL="tcp://127.0.0.1:0",
               SJE_HTTP_LISTEN="127.0.0.1:0", SJE_LOGGING_LEVEL="info")
    start([os.path.join(BIN, "sje-server")], env, "server.log")
    endpoints = os.path.join(data, "endpoints")
    until("the server's endpoints", lambda: os.path.exists(endpoints) and
          "http_url=http" in open(endpoints).read())
    eps = dict(line.split("=", 1) for line in
               open(endpoints).read().splitlines() if "=" in line)
    url = eps["http_url"]
    api = Api(url, ADMIN)
    wenv = dict(os.environ, SJE_CONFIG=cfg,
                SJE_WORKER_SERVER_URL=eps["rpc_url"],
                SJE_WORKER_API_KEY=WORKER, SJE_LOGGING_LEVEL="info")
    if eps.get("events_url"):
        wenv["SJE_WORKER_EVENTS_URL"] = eps["events_url"]
    start([os.path.join(BIN, "sje-worker"), "--name", "w1", "--slots", "4"],
          wenv, "worker.log")
    until("the worker registers", lambda: any(
        w["name"] == "w1" for w in api.call("GET", "/workers")[1]["workers"]))

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-gpu", "--window-size=1280,900"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        run_browser(drv, url, api)
    finally:
        drv.quit()


def text(drv, css):
    return drv.find_element(By.CSS_SELECTOR, css).text


def sign_in(drv, url, k):
    drv.get(url + "/ui/")
    until("the sign-in form", lambda: drv.find_element(
        By.ID, "key").is_displayed())
    type_into(drv, "key", k)
    press(drv, "key-save")
    until("signed in", lambda: drv.find_element(By.ID, "who").text)


def type_into(drv, element_id, value):
    """Types value into a field, again if the page replaced it."""
    def typed():
        box = drv.find_element(By.ID, element_id)
        box.clear()
        box.send_keys(value)
        return box.get_attribute("value") == value
    until("typing into " + element_id, typed)


def press(drv, element_id):
    """Clicks a button, again if the page re-rendered under the click."""
    until("clicking " + element_id,
          lambda: drv.find_element(By.ID, element_id).click() or True)


def confirm(drv):
    until("the confirmation", lambda: drv.find_element(
        By.ID, "confirm").is_displayed())
    press(drv, "confirm-ok")


def run_browser(drv, url, api):
    # Sign in; the overview.
    sign_in(drv, url, ADMIN)
    check("the admin key is named in the header", lambda:
          "ops" in text(drv, "#who"))
    n0 = int(until("the overview", lambda: text(drv, "#total-SUCCEEDED")))
    for i in range(3):
        st, _ = api.call("POST", "/submit", {"task_id": "n%d" % i,
                                             "function": "noop"})
        check("submit n%d" % i, st == 201)
    until("the overview counts the 3 jobs, live",
          lambda: int(text(drv, "#total-SUCCEEDED")) >= n0 + 3)
    check("the noop row counts them", lambda: int(drv.find_element(
        By.CSS_SELECTOR, 'tr[data-function="noop"] td[data-state="SUCCEEDED"]'
    ).text) >= 3)
    check("workers online", lambda: text(drv, "#workers-online") == "1")
    check("the last hour's chart counts the attempts", lambda: sum(
        int(g.get_attribute("data-done")) for g in drv.find_elements(
            By.CSS_SELECTOR, "#hour-chart g.minute")) >= 3)
    # Alerts are not job events: the overview shows them as it loads.
    check("the alert that fires is shown", until(
        "the alert", lambda: drv.refresh() or "workers-up" in
        until("the overview again", lambda: text(drv, "#alerts"), 3)))
    drv.save_screenshot(os.path.join(SHOTS, "overview.png"))

    # A filter narrows the list.
    for i in range(2):
        api.call("POST", "/submit", {"task_id": "e%d" % i, "function": "echo",
                                     "params": {"i": i}})
    until("the echo jobs finish", lambda: all(
        api.state("e%d" % i) == "SUCCEEDED" for i in range(2)))
    drv.get(url + "/ui/#/jobs")
    until("the job list", lambda: len(drv.find_elements(
        By.CSS_SELECTOR, "#jobs tbody tr")) >= 5)
    type_into(drv, "f-function", "echo")
    press(drv, "f-apply")
    rows = until("the list narrowed to echo", lambda: (lambda r: r if len(r)
                 == 2 else None)(drv.find_elements(
                     By.CSS_SELECTOR, "#jobs tbody tr")))
    check("only echo jobs are listed", lambda: sorted(
        r.get_attribute("data-task-id") for r in rows) == ["e0", "e1"])
    check("the filter is in the address (no key there)", lambda:
          "function=echo" in drv.current_url and ADMIN not in
          drv.current_url)

    # The search box narrows the list by task_id prefix (the server's
    # task_id_prefix filter), alone and with another filter.
    drv.get(url + "/ui/#/jobs")
    until("the job list again", lambda: len(drv.find_elements(
        By.CSS_SELECTOR, "#jobs tbody tr")) >= 5)
    type_into(drv, "f-q", "n")
    press(drv, "f-apply")
    rows = until("the list narrowed to the prefix n", lambda: (lambda r: r if
                 len(r) == 3 else None)(drv.find_elements(
                     By.CSS_SELECTOR, "#jobs tbody tr")))
    check("prefix search lists exactly the ids starting with it", lambda:
          [r.get_attribute("data-task-id") for r in rows] ==
          ["n2", "n1", "n0"])
    check("the prefix is in the address", lambda: "q=n" in drv.current_url)
    drv.get(url + "/ui/#/jobs?q=e&function=noop")
    until("the prefix with a function filter matches none", lambda:
          drv.find_element(By.ID, "jobs-empty"))

    # A failed job: its error and attempts; re-run from the page.
    api.call("POST", "/submit", {"task_id": "flaky-1", "function": "flaky",
                                 "retry": {"max_attempts": 1}})
    until("flaky-1 fails", lambda: api.state("flaky-1") == "FAILED")
    drv.get(url + "/ui/#/job/flaky-1")
    until("the job page", lambda: text(drv, "#job-state") == "FAILED")
    check("its error is shown", lambda: "first attempt fails" in
          text(drv, "#job-error"))
    check("one attempt is listed", lambda: len(drv.find_elements(
        By.CSS_SELECTOR, "#attempts tr.attempt-row")) == 1)
    check("the attempt is on the time line", lambda: len(drv.find_elements(
        By.CSS_SELECTOR, "#timeline g.attempt")) == 1)
    # With the keyboard only: focus the button, Enter; the dialog opens
    # on its Cancel button; Tab to Confirm, Enter.
    def enter_on_retry():
        drv.execute_script("document.getElementById('act-retry').focus()")
        drv.switch_to.active_element.send_keys(Keys.ENTER)
        return True
    until("Enter on the focused re-run button", enter_on_retry)
    until("the confirmation", lambda: drv.find_element(
        By.ID, "confirm").is_displayed())
    check("the dialog starts on its Cancel button", lambda:
          drv.switch_to.active_element.get_attribute("id") == "confirm-no")
    drv.switch_to.active_element.send_keys(Keys.TAB)
    check("Tab reaches Confirm", lambda:
          drv.switch_to.active_element.get_attribute("id") == "confirm-ok")
    drv.switch_to.active_element.send_keys(Keys.ENTER)
    until("the page shows it succeeded, live",
          lambda: text(drv, "#job-state") == "SUCCEEDED", timeout=20)
    check("two attempts now", len(until("two attempt rows", lambda: (
        lambda r: r if len(r) == 2 else None)(drv.find_elements(
            By.CSS_SELECTOR, "#attempts tr.attempt-row")))) == 2)
    check("the store agrees", api.state("flaky-1") == "SUCCEEDED")
    check("its result is shown", lambda: '"ok": true' in text(drv, "#job-result"))
    drv.save_screenshot(os.path.join(SHOTS, "job.png"))

    # A workflow run: the DAG's nodes change colour.
    st, _ = api.call("POST", "/workflows/diamond", {"workflow_id": "run-1"})
    check("the run starts", st == 201)
    drv.get(url + "/ui/#/run/run-1")
    node = 'g.node[data-task-id="run-1.join"] rect'
    first = until("the DAG is drawn", lambda: drv.execute_script(
        "const r = document.querySelector(arguments[0]);"
        "return r && [r.parentNode.dataset.state, getComputedStyle(r).fill];",
        node))
    check("the DAG has 4 nodes", lambda: len(drv.find_elements(
        By.CSS_SELECTOR, "#dag g.node")) == 4)
    check("join waits first", first[0] == "PENDING")
    check("the edges are drawn", lambda: len(drv.find_elements(
        By.CSS_SELECTOR, "#dag path.edge")) == 4)
    last = until("every node turns SUCCEEDED, live", lambda: (lambda v: v if
                 v and v[0] == 4 else None)(drv.execute_script(
                     "const n = document.querySelectorAll("
                     "'#dag g.node.st-SUCCEEDED');"
                     "const r = document.querySelector(arguments[0]);"
                     "return [n.length, getComputedStyle(r).fill];", node)),
                 timeout=20)
    check("join's colour changed", last[1] != first[1])
    check("the run is SUCCEEDED", lambda: text(drv, "#run-state") == "SUCCEEDED")
    drv.save_screenshot(os.path.join(SHOTS, "workflow_run.png"))

    # The list of workflow runs shows the run and opens it.
    st, _ = api.call("POST", "/workflows/diamond", {"workflow_id": "run-2"})
    check("a second run starts", st == 201)
    drv.get(url + "/ui/#/runs")
    until("the runs list", lambda: drv.find_element(
        By.CSS_SELECTOR, 'tr[data-run-id="run-1"]'))
    check("run-1 is listed SUCCEEDED with its 4 steps finished", lambda: (
        lambda t: "SUCCEEDED" in t and "4/4" in t and "diamond" in t)(
            text(drv, 'tr[data-run-id="run-1"]')))
    check("the newest run comes first", lambda: drv.find_elements(
        By.CSS_SELECTOR, "#runs tbody tr")[0].get_attribute("data-run-id")
        == "run-2")
    drv.save_screenshot(os.path.join(SHOTS, "workflow_runs.png"))
    until("clicking run-1 in the list", lambda: drv.find_element(
        By.CSS_SELECTOR, 'tr[data-run-id="run-1"] a').click() or True)
    until("the run opens from the list", lambda: drv.current_url.endswith(
        "#/run/run-1") and len(drv.find_elements(
            By.CSS_SELECTOR, "#dag g.node")) == 4)

    # A job's page links its children, workflow step or not.
    def child_links(tid, n):
        """The texts of the children's links once job tid's page (not the
        page before it) shows n of them."""
        return lambda: (lambda a: [x.text for x in a] if len(a) == n and
                        text(drv, "h1 code") == tid else None)(
                            drv.find_elements(By.CSS_SELECTOR,
                                              "#job-children a"))
    drv.get(url + "/ui/#/job/run-1.start")
    kids = until("run-1.start's children", child_links("run-1.start", 2))
    check("a step's children are its steps after it", sorted(kids) ==
          ["run-1.left", "run-1.right"])
    api.call("POST", "/submit", {"task_id": "par-1", "function": "noop"})
    for k in ("kid-1", "kid-2"):
        api.call("POST", "/submit", {"task_id": k, "function": "noop",
                                     "depends_on": ["par-1"]})
    drv.get(url + "/ui/#/job/par-1")
    kids = until("par-1's children", child_links("par-1", 2))
    check("a job's children are listed as links, newest first",
          kids == ["kid-2", "kid-1"])
    until("clicking the child kid-1", lambda: drv.find_element(
        By.CSS_SELECTOR, '#job-children a[href$="/kid-1"]').click() or True)
    until("a child's link opens its page", lambda: drv.current_url.endswith(
        "#/job/kid-1") and "par-1" == text(drv, "#job-parents a"))

    # Workers.
    drv.get(url + "/ui/#/workers")
    until("the worker is listed", lambda: drv.find_element(
        By.CSS_SELECTOR, 'tr[data-worker="w1"]'))
    drv.save_screenshot(os.path.join(SHOTS, "workers.png"))

    # Cancel a running job from its page.
    api.call("POST", "/submit", {"task_id": "long-1", "function": "sleep",
                                 "params": {"seconds": 60}})
    until("long-1 runs", lambda: api.state("long-1") == "RUNNING")
    drv.get(url + "/ui/#/job/long-1")
    press(drv, "act-cancel")
    confirm(drv)
    until("the page shows it cancelled, live",
          lambda: text(drv, "#job-state") == "CANCELLED")
    check("the store agrees", api.state("long-1") == "CANCELLED")

    # Re-run everything the filter selects.
    for i in range(2):
        api.call("POST", "/submit", {"task_id": "bad-%d" % i,
                                     "function": "fail",
                                     "retry": {"max_attempts": 1}})
    until("the bad jobs fail", lambda: all(
        api.state("bad-%d" % i) == "FAILED" for i in range(2)))
    drv.get(url + "/ui/#/jobs?state=FAILED&function=fail")
    press(drv, "act-bulk-retry")
    confirm(drv)
    check("the outcome is shown", until("the outcome", lambda: (
        lambda t: t if "2 jobs will run again" in t else None)(
            text(drv, "#status"))))
    until("each ran a second attempt", lambda: all(
        len(api.call("GET", "/status/bad-%d" % i)[1]["attempts"]) == 2
        for i in range(2)))

    # Pause and resume a function; delete a job.
    drv.get(url + "/ui/#/functions")
    press(drv, "act-pause-echo")
    confirm(drv)
    until("echo shows paused", lambda: "paused" in drv.find_element(
        By.CSS_SELECTOR, 'tr[data-function="echo"]').text)
    check("the server has it paused", any(
        f["name"] == "echo" and f["paused"] for f in
        api.call("GET", "/functions")[1]["functions"]))
    press(drv, "act-resume-echo")
    confirm(drv)
    until("echo runs again", lambda: "paused" not in drv.find_element(
        By.CSS_SELECTOR, 'tr[data-function="echo"]').text)
    check("the server has it resumed", not any(
        f["name"] == "echo" and f["paused"] for f in
        api.call("GET", "/functions")[1]["functions"]))
    drv.get(url + "/ui/#/job/e0")
    press(drv, "act-delete")
    confirm(drv)
    until("back on the job list", lambda: drv.current_url.endswith("#/jobs"))
    check("e0 is gone", api.call("GET", "/status/e0")[0] == 404)

    # A phone's width: one column, tables scroll inside their box.
    drv.set_window_size(390, 844)
    drv.get(url + "/ui/#/job/flaky-1")
    until("the job page, narrow", lambda: text(drv, "#job-state"))
    check("nothing is wider than the phone's screen", lambda: drv.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"))
    drv.save_screenshot(os.path.join(SHOTS, "job_phone.png"))
    drv.set_window_size(1280, 900)

    # A read-only key sees no action.
    press(drv, "logout")
    sign_in(drv, url, READER)
    check("the read key is named", lambda: "viewer" in text(drv, "#who"))
    os.unlink(os.path.join(TMP, "flaky.marker"))  # it fails again
    api.call("POST", "/submit", {"task_id": "flaky-2", "function": "flaky",
                                 "retry": {"max_attempts": 1}})
    until("flaky-2 fails", lambda: api.state("flaky-2") == "FAILED")
    drv.get(url + "/ui/#/job/flaky-2")
    until("the job page", lambda: text(drv, "#job-state") == "FAILED")
    check("no action button for the read key", lambda: drv.find_elements(
        By.CSS_SELECTOR, "#job-actions button") == [])
    drv.get(url + "/ui/#/functions")
    until("the functions", lambda: drv.find_element(
        By.CSS_SELECTOR, 'tr[data-function="flaky"]'))
    check("no pause button", lambda: drv.find_elements(
        By.CSS_SELECTOR, "#functions button") == [])
    drv.get(url + "/ui/#/jobs?state=FAILED")
    until("the failed jobs", lambda: drv.find_element(
        By.CSS_SELECTOR, 'tr[data-task-id="flaky-2"]'))
    check("no bulk action", lambda: drv.find_elements(
        By.CSS_SELECTOR, ".actions button") == [])
    check("the session key is not in storage other than sessionStorage", lambda:
          drv.execute_script("return document.cookie") == "" and
          drv.execute_script("return localStorage.length") == 0)

    # A forged action: a page of another origin posts a form to the server.
    evil = EvilSite(url + "/retry/flaky-2")
    try:
        drv.get(evil.url)
        until("the forged post is answered",
              lambda: "PERMISSION_DENIED" in drv.page_source)
    finally:
        evil.close()
    check("the forged re-run changed nothing", api.state("flaky-2") ==
          "FAILED")
    st, body = api.call("POST", "/retry/flaky-2", {},
                        {"Origin": "http://evil.example"})
    check("a POST with a foreign Origin is refused 403, even with a key",
          st == 403 and body["error"]["code"] == "PERMISSION_DENIED")
    check("still FAILED", api.state("flaky-2") == "FAILED")


class EvilSite:
    """A page on another loopback port whose form posts to target."""

    def __init__(self, target):
        page = ("<!DOCTYPE html><form id=f method=post action='%s'>"
                "<input name=x value=1></form>"
                "<script>document.getElementById('f').submit()</script>"
                % target).encode()

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d/" % self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


if __name__ == "__main__":
    ok = False
    t0 = time.monotonic()
    try:
        main()
        ok = True
    except Exception as e:
        print("FAIL: dashboard_test: %s" % e)
    finally:
        stop_all()
        print("# %d checks in %.1f s" % (CHECKS, time.monotonic() - t0))
        if not ok:
            for log in ("server.log", "worker.log"):
                p = os.path.join(TMP, log)
                if os.path.exists(p):
                    print("## " + log)
                    print("".join(open(p).readlines()[-30:]))
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(0 if ok else 1)
