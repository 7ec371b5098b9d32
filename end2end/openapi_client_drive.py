"""Drives a task through the client openapi-python-client generated from Spool's OpenAPI
document (see openapi-client.sh): kinds with their parameters, a kind's parameters as
their own generated model, submit, list, detail, cancel and retry, each answer parsed
into the generated types.

Usage: openapi_client_drive.py BASE_URL DIR_HOLDING_spool_client
"""

import sys
import time

base, where = sys.argv[1], sys.argv[2]
sys.path.insert(0, where)

from spool_client import Client  # noqa: E402
from spool_client.api.queues import task_types  # noqa: E402
from spool_client.api.tasks import cancel, detail, list_, retry, submit  # noqa: E402
from spool_client.models import (  # noqa: E402
    DataProcessingParameters,
    SubmitRequest,
    TaskStatus,
    TaskView,
    TaskViewResultDataType0,
)

client = Client(base_url=base, raise_on_unexpected_status=True)


def until(task_id, statuses):
    deadline = time.monotonic() + 120
    while True:
        task = detail.sync(task_id, client=client)
        assert isinstance(task, TaskView), task
        if task.status in statuses:
            return task
        assert time.monotonic() < deadline, f"task {task_id} stayed {task.status}"
        time.sleep(0.1)


kinds = {kind.name: kind for kind in task_types.sync(client=client)}
assert "data_processing" in kinds, kinds
rows = kinds["data_processing"].parameters_schema.to_dict()["properties"]["rows"]
assert rows["maximum"] == 1_000_000 and rows["default"] == 1000, rows

quick = submit.sync(client=client, body=SubmitRequest.from_dict({"task_type": "noop", "parameters": {}}))
assert isinstance(quick, TaskView), quick
done = until(quick.id, {TaskStatus.SUCCESS})
assert isinstance(done.result_data, TaskViewResultDataType0), done

listed = list_.sync(client=client, task_type="noop", limit=10)
assert any(task.id == quick.id for task in listed), listed

# Each kind's parameters are a model of their own, generated from the kind's schema.
slow_parameters = DataProcessingParameters(rows=10, pace_ms=10_000).to_dict()
assert slow_parameters == {"rows": 10, "pace_ms": 10_000}, slow_parameters
slow_body = {"task_type": "data_processing", "parameters": slow_parameters}
slow = submit.sync(client=client, body=SubmitRequest.from_dict(slow_body))
assert isinstance(slow, TaskView), slow
cancelled = cancel.sync(slow.id, client=client)
assert isinstance(cancelled, TaskView), cancelled
until(slow.id, {TaskStatus.CANCELLED})
again = retry.sync(slow.id, client=client)
assert isinstance(again, TaskView) and again.status in {TaskStatus.PENDING, TaskStatus.RUNNING}, again
cancel.sync(slow.id, client=client)
until(slow.id, {TaskStatus.CANCELLED})
print("openapi-client: the generated client submitted, listed, read, cancelled and retried")
