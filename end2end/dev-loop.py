#!/usr/bin/env python3
"""The development loop as a developer runs it: `cargo leptos watch` with no arguments.

Starts it on free ports with a temporary database and a site root of its own (watch
writes its debug wasm there and would otherwise replace the release assets the browser
tests use), waits until `/` answers with the hydration script and a submitted task
succeeds, edits a source file (a comment line that shifts the code below it, as any
edit does), and waits until a new server process (a later `process_start_time_seconds`)
answers; the file is restored on the way out. Exits 1, with the end of watch's output,
when anything does not happen in time. The whole process group is stopped on the way
out, whatever happened.

Standard library only; run from the project's root: `python3 end2end/dev-loop.py`.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# A cold debug build of the server and the wasm takes minutes on two cores, a rebuild
# after one edit well under one; once watch says it serves, the server answers in
# seconds. The bounds only stop a hang.
FIRST_BUILD_SECS = 20 * 60
SERVE_SECS = 90
RELOAD_SECS = 10 * 60
EDIT_AGAIN_SECS = 120
EDIT = b"// an edit by end2end/dev-loop.py, undone when it ends\n"
TASK_SECS = 60
# cargo-leptos restarts the server only when the rebuilt binary differs, so the edit must
# change it: a line added at the top moves every line below, and with it the line numbers
# the binary records.
TOUCHED = Path("src/server/rest/health.rs")
SITE_ROOT = Path("target/dev-loop-site")


class Failed(Exception):
    """The loop did not do what a developer expects."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url, body=None):
    """GET (or POST `body` as JSON); returns (status, text), or (None, why) when
    nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as err:
        return None, str(err)


def wait_for(what, seconds, check, watch):
    """Calls `check` until it returns something truthy; fails after `seconds` or as
    soon as `cargo leptos watch` has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if watch.poll() is not None:
            raise Failed(f"cargo leptos watch exited ({watch.returncode}) while waiting for {what}")
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise Failed(f"no {what} within {seconds} s")


def plain_text(path):
    """A log's text without the terminal colour codes cargo-leptos writes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", path.read_bytes().decode("utf-8", "replace"))


def start_time(base):
    """The answering server's start time, from its metrics."""
    status, text = fetch(f"{base}/metrics")
    if status != 200:
        return None
    for line in text.splitlines():
        if line.startswith("process_start_time_seconds "):
            return float(line.split()[1])
    return None


def serves_dashboard(base):
    status, page = fetch(f"{base}/")
    if status != 200 or "Spool" not in page:
        return False
    # The hydration script loads the wasm bundle, which must be there to load.
    if "/pkg/spool.js" not in page or "hydrate" not in page:
        return False
    wasm_status, _ = fetch(f"{base}/pkg/spool.wasm")
    return wasm_status == 200


def task_succeeds(base):
    status, text = fetch(f"{base}/api/tasks/submit", {"task_type": "noop", "parameters": {}})
    if status != 200:
        raise Failed(f"submit answered {status}: {text[:300]}")
    task_id = json.loads(text)["id"]

    def finished():
        status, text = fetch(f"{base}/api/tasks/{task_id}")
        if status != 200:
            return None
        state = json.loads(text)["status"]
        if state in ("FAILED", "CANCELLED"):
            raise Failed(f"the task ended {state}")
        return state == "SUCCESS"

    deadline = time.monotonic() + TASK_SECS
    while time.monotonic() < deadline:
        if finished():
            return
        time.sleep(0.2)
    raise Failed(f"task {task_id} did not succeed within {TASK_SECS} s")


def stop(watch):
    """SIGINT to the whole group (what Ctrl-C does), then SIGKILL to whatever is left of
    it, even when cargo-leptos itself has already exited."""
    for sig, grace in ((signal.SIGINT, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(watch.pid, sig)
        except ProcessLookupError:
            return
        try:
            watch.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(watch.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def undo_edit(original, edits):
    """Takes the test's lines off the edited file, and nothing else: an edit a developer
    made meanwhile is kept (and said)."""
    current = TOUCHED.read_bytes()
    if current == original:
        return
    if current == EDIT * edits + original:
        TOUCHED.write_bytes(original)
    else:
        print(f"dev-loop: {TOUCHED} changed during the test; left as it is", file=sys.stderr)


def build_failed(log_path):
    text = plain_text(log_path)
    return any(sign in text for sign in ("error[E", "error: could not compile"))


def clean_env(work, site_port, reload_port):
    """The environment watch gets: no SPOOL_* setting of the caller's (a token meant for
    the command-line client would lock the test out), and its own ports and files."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SPOOL_")}
    env.update(
        LEPTOS_SITE_ADDR=f"127.0.0.1:{site_port}",
        LEPTOS_RELOAD_PORT=str(reload_port),
        LEPTOS_SITE_ROOT=str(SITE_ROOT),
        DATABASE_URL=f"sqlite://{work / 'dev.db'}",
        SPOOL_DATA_DIR=str(work / "data"),
        RUST_LOG="warn",
    )
    return env


def main():
    # A stopped test still stops watch and restores the edited file (see `finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    site_port, reload_port = free_port(), free_port()
    base = f"http://127.0.0.1:{site_port}"
    work = Path(tempfile.mkdtemp(prefix="spool-dev-loop-"))
    log_path = work / "watch.log"
    # A site root of an earlier run could let a failed build look served.
    subprocess.run(["rm", "-rf", str(SITE_ROOT)], check=False)
    original = TOUCHED.read_bytes()
    edits = 0
    with open(log_path, "wb") as log:
        watch = subprocess.Popen(
            ["cargo", "leptos", "watch"],
            env=clean_env(work, site_port, reload_port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = time.monotonic()

        def serving():
            if build_failed(log_path):
                raise Failed("the build failed")
            return "Serving at" in plain_text(log_path)

        wait_for("build (watch saying \"Serving at\")", FIRST_BUILD_SECS, serving, watch)
        wait_for("dashboard with its hydration script", SERVE_SECS,
                 lambda: serves_dashboard(base), watch)
        print(f"dev-loop: served after {time.monotonic() - started:.0f} s")
        task_succeeds(base)
        first = wait_for("process start time in /metrics", 60, lambda: start_time(base), watch)
        print("dev-loop: a submitted task succeeded; editing", TOUCHED)

        # Watch sets up its file watcher after it first serves; an edit before that
        # goes unseen. So wait for it, and edit again (a line more, so the binary changes
        # again) only if watch showed no sign of a rebuild: a new edit would restart one.
        wait_for("file watcher", 120,
                 lambda: "Creating ignore list" in plain_text(log_path), watch)
        time.sleep(2)
        touched = time.monotonic()
        while True:
            edits += 1
            seen = len(plain_text(log_path))
            TOUCHED.write_bytes(EDIT * edits + original)
            try:
                wait_for("new server process after the edit", EDIT_AGAIN_SECS,
                         lambda: (start_time(base) or first) != first, watch)
                break
            except Failed:
                rebuilding = "Compiling" in plain_text(log_path)[seen:]
                if rebuilding or time.monotonic() - touched > RELOAD_SECS:
                    wait_for("new server process after the edit",
                             max(1, RELOAD_SECS - (time.monotonic() - touched)),
                             lambda: (start_time(base) or first) != first, watch)
                    break
                print(f"dev-loop: no rebuild {EDIT_AGAIN_SECS} s after edit {edits}; editing again")
        wait_for("dashboard after the reload", 60, lambda: serves_dashboard(base), watch)
        task_succeeds(base)
        print(f"dev-loop: a new server answered {time.monotonic() - touched:.0f} s after the edit")
        return 0
    except Failed as failure:
        print(f"dev-loop: FAILED: {failure}", file=sys.stderr)
        tail = plain_text(log_path)[-6000:]
        print(f"--- the end of cargo leptos watch's output ---\n{tail}", file=sys.stderr)
        return 1
    finally:
        undo_edit(original, edits)
        stop(watch)
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main())
