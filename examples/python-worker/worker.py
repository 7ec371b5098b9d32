#!/usr/bin/env python3
"""An external Spool worker in plain Python (standard library only).

It claims `word_count` tasks from a queue over Spool's REST API, long-polling while the
queue is empty, reports progress with heartbeats (which also renew the task's lease),
writes lines to the task's log, and completes each task with its result, or fails it: retryably when the error may pass,
for good when the parameters are wrong. Start Spool with the kind declared:

    spool serve --external-kind word_count=text
    python3 examples/python-worker/worker.py --url http://127.0.0.1:3000 --queue text

With a token, pass --token (or set SPOOL_TOKEN). --until-idle stops once a claim comes
back empty, which the tests use.
"""

import argparse
import json
import os
import socket
import sys
import urllib.error
import urllib.request

LEASE_SECS = 30


class Lost(Exception):
    """The task is no longer this attempt's (its lease ran out): drop it."""


class Spool:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token

    def post(self, path, body, timeout=60):
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            if err.code == 409:
                raise Lost(err.read().decode(errors="replace")) from err
            raise

    def claim(self, worker, queue, wait_secs):
        body = {"worker": worker, "queues": [queue], "max": 1,
                "lease_secs": LEASE_SECS, "wait_secs": wait_secs}
        return self.post("/api/workers/claim", body, timeout=wait_secs + 30)

    def heartbeat(self, task, progress, message):
        body = {"attempt": task["attempt"], "progress": progress, "message": message,
                "lease_secs": LEASE_SECS}
        return self.post(f"/api/workers/tasks/{task['id']}/heartbeat", body)

    def log(self, task, message, level="info"):
        body = {"attempt": task["attempt"], "lines": [{"level": level, "message": message}]}
        self.post(f"/api/workers/tasks/{task['id']}/logs", body)

    def complete(self, task, result):
        body = {"attempt": task["attempt"], "result": result}
        self.post(f"/api/workers/tasks/{task['id']}/complete", body)

    def fail(self, task, error, retryable):
        body = {"attempt": task["attempt"], "error": error, "retryable": retryable}
        self.post(f"/api/workers/tasks/{task['id']}/fail", body)


class BadParameters(Exception):
    """Another attempt would fail the same way."""


def word_count(spool, task):
    text = task["parameters"].get("text")
    if not isinstance(text, str):
        raise BadParameters("parameters.text must be a string")
    answer = spool.heartbeat(task, 50, "counting")
    if answer["cancel_requested"]:
        raise InterruptedError("cancelled")
    words = len(text.split())
    spool.log(task, f"counted {words} words in {len(text)} characters")
    return {"words": words}


def run(spool, worker, queue, until_idle):
    while True:
        tasks = spool.claim(worker, queue, wait_secs=0 if until_idle else 20)
        if not tasks and until_idle:
            return
        for task in tasks:
            try:
                result = word_count(spool, task)
                spool.heartbeat(task, 100, "done")
                spool.complete(task, result)
            except Lost as lost:
                print(f"task {task['id']}: dropped, {lost}", file=sys.stderr)
            except BadParameters as err:
                spool.fail(task, str(err), retryable=False)
            except Exception as err:  # anything else may pass: retried by the task's policy
                spool.fail(task, f"{type(err).__name__}: {err}", retryable=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--queue", default="text")
    parser.add_argument("--token", default=os.environ.get("SPOOL_TOKEN"))
    parser.add_argument("--worker", default=f"{socket.gethostname()}:{os.getpid()}")
    parser.add_argument("--until-idle", action="store_true")
    args = parser.parse_args()
    run(Spool(args.url, args.token), args.worker, args.queue, args.until_idle)


if __name__ == "__main__":
    main()
