"""The local stack as `make dev` runs it: `bluehill dev` in its own process (DynamoDB Local for
the table, moto server for the rest, the demo seed, chalice local), spoken to only over HTTP and
through the `bluehill` commands. What only a local stack has — the demo seed, `bluehill invoke`,
Ctrl-C and restarts, dev-reset, DynamoDB Local, its ports — is checked here, on a stack of its
own (these tests restart it); the API itself is checked on the e2e target (test_api_over_http.py,
test_route_matrix_over_http.py), local or deployed."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluehill_dev.stack_process import BLUEHILL, Reply, StackFailed, StackProcess
from bluehill_dev.stack_process import free_port as _free_port

pytestmark = [pytest.mark.e2e, pytest.mark.local_only("the demo seed, restarts, dev-reset and DynamoDB Local")]


class LocalStack(StackProcess):
    """A stack that fails the test, with its output, when it does not start or stop."""

    def start(self, *options: str) -> None:
        try:
            super().start(*options)
        except StackFailed as failed:
            pytest.fail(str(failed))

    def stop(self) -> int:
        try:
            return super().stop()
        except StackFailed as failed:
            pytest.fail(str(failed))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = LocalStack(tmp_path_factory.mktemp("e2e") / "local")
    running.start()
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()


def _names(reply: Reply) -> set[str]:
    assert reply.status == 200, reply.body
    return {customer["name"] for customer in reply.body["items"]}


def test_the_seeded_member_sees_only_the_customers_they_own(stack: LocalStack) -> None:
    member_view = _names(stack.request("GET", "/customers", stack.token("demo", "member")))
    assert member_view == {"Initech", "Vandelay Imports", "Soylent Labs"}


def test_seeding_a_seeded_stack_changes_nothing(stack: LocalStack) -> None:
    owner = stack.token("globex", "owner")
    before = _names(stack.request("GET", "/customers", owner))
    seeded = stack.bluehill("seed")
    assert seeded.returncode == 0, seeded.stderr
    assert "nothing changed" in seeded.stdout
    assert _names(stack.request("GET", "/customers", owner)) == before == {"Initrode", "Cyberdyne"}


def test_invoking_an_unknown_job_lists_the_handlers_and_exits_2(stack: LocalStack) -> None:
    done = stack.bluehill("invoke", "no_such_job", "events/none.json")
    assert done.returncode == 2
    assert "no handler named 'no_such_job'; available:" in done.stderr
    assert "Traceback" not in done.stderr


def test_ctrl_c_stops_cleanly_and_the_data_survives_a_restart(stack: LocalStack) -> None:
    created = stack.request("POST", "/customers", stack.token("demo", "owner"), {"name": "Survivor"})
    assert created.status == 201, created.body
    assert stack.stop() == 0
    assert "stopped." in stack.output() and "Traceback" not in stack.output()

    stack.start()  # at once, on the same ports: a fresh moto server, the recording replayed into it
    read = stack.request("GET", f"/customers/{created.body['id']}", stack.token("demo", "owner"))
    assert read.status == 200, read.body
    assert read.body["name"] == "Survivor"
    assert "demo data already present" in stack.output()


def test_make_dev_reset_forgets_the_table_and_the_logins(stack: LocalStack) -> None:
    created = stack.request("POST", "/customers", stack.token("demo", "owner"), {"name": "Forgotten"})
    assert created.status == 201, created.body
    assert stack.stop() == 0
    stack.start("--reset")
    assert "seeded tenants: demo, globex" in stack.output().rsplit("BlueHill is running", 1)[-1]
    read = stack.request("GET", f"/customers/{created.body['id']}", stack.token("demo", "owner"))
    assert read.status == 404


def test_the_table_is_on_dynamodb_local_with_its_stream(stack: LocalStack) -> None:
    import boto3
    from chalicelib.core import schema

    endpoint = stack.state()["dynamodb_endpoint"]
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    table = dynamodb.describe_table(TableName="bluehill")["Table"]
    assert ":ddblocal:" in table["TableArn"]  # DynamoDB Local's own ARNs: not moto's table
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": schema.STREAM_VIEW_TYPE}
    assert (stack.local_dir / "dynamodb" / "shared-local-instance.db").exists()

    created = stack.request("POST", "/customers", stack.token("demo", "admin"), {"name": "Streamed"})
    assert created.status == 201, created.body
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
    images = []
    for shard in streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=table["LatestStreamArn"], ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        images += [r["dynamodb"].get("NewImage", {}) for r in streams.get_records(ShardIterator=iterator,
                                                                                   Limit=1000)["Records"]]
    assert any(image.get("name") == {"S": "Streamed"} for image in images)


def _refused_start(tmp_path: Path, taken: str) -> tuple[int, subprocess.CompletedProcess[str]]:
    ports = {"--port": _free_port(), "--moto-port": _free_port(), "--dynamodb-port": _free_port()}
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        ports[taken] = squatter.getsockname()[1]
        done = subprocess.run(
            [BLUEHILL, "dev", *(str(part) for option in ports.items() for part in option)],
            env={**os.environ, "BLUEHILL_LOCAL_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=30,
        )
    return ports[taken], done


@pytest.mark.parametrize("taken", ["--port", "--moto-port", "--dynamodb-port"])
def test_a_taken_port_is_one_line_and_exit_1(tmp_path: Path, taken: str) -> None:
    port, done = _refused_start(tmp_path, taken)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and f"port {port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
