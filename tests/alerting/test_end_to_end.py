"""End to end on loopback: Prometheus -> Alertmanager -> SNS -> SQS, with what haflow renders.

- a real Prometheus (Debian's 2.42) evaluates prod's rendered rules (haflow's and the chart's general
  rules, which hold the Watchdog) against a tiny exporter of synthetic series, scraped with the
  metric relabeling the ingress-nginx ServiceMonitor renders;
- a real Alertmanager (Debian's 0.25) runs the routing decoded from the rendered Secret, unchanged but
  for ``api_url`` on each SNS notifier, which points it at moto_server instead of AWS;
- moto_server holds topics of the rendered ARNs' names, each with an SQS queue subscribed.

Then: the Watchdog reaches the heartbeat topic's queue, and a failed flow-run Job reaches the alerts topic's
queue with the ``severity`` attribute a subscription filter would route on. moto accepts any credentials and
does not encrypt (the topics' KMS key is not exercised here); Alertmanager signs with SigV4 as it does in the
cluster, from the AWS SDK's default chain (here environment keys, there the IRSA web identity).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.drill.motoserver import answers, free_port, moto_command
from haflow.render import RenderResult
from tests.alerting.conftest import ENV
from tests.alerting.test_alertmanager import rendered_config
from tests.alerting.test_rules import GENERAL_RULES, HAFLOW_RULES, rule_groups, write_rules
from tests.alerting.tools import alertmanager_binary, tool

REGION = "us-east-1"
# Long enough for the root route's group_wait (30 s) plus scrape, evaluation and delivery.
DELIVERY_TIMEOUT_SECONDS = 90


def synthetic_metrics(flow_run_namespace: str) -> str:
    return "\n".join([
        "# TYPE kube_job_failed gauge",
        f'kube_job_failed{{namespace="{flow_run_namespace}",job_name="flow-run-e2e",condition="true"}} 1',
        "# TYPE nginx_ingress_controller_requests counter",
        'nginx_ingress_controller_requests{namespace="model-api",ingress="model-api",status="200"} 42',
        "",
    ])


@pytest.fixture
def exporter(environments: dict[str, Environment]) -> Iterator[str]:
    body = synthetic_metrics(environments[ENV].prefect.flow_run_namespace).encode()

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Processes:
    """Servers started by one test; each stopped by its own handle at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, **(env or {})})
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for process in self.started:
            process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def wait_for(check: Any, timeout: float, what: str, logs: Any = lambda: "") -> Any:
    """``check()``'s first truthy answer; after ``timeout``, fail with ``logs()``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs()}")


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def prometheus_config(rules: list[Path], exporter: str, alertmanager: str, relabelings: list[dict[str, Any]]
                      ) -> dict[str, Any]:
    """The operator's ServiceMonitor relabeling, in Prometheus' own spelling."""
    spelled = [{{"sourceLabels": "source_labels", "targetLabel": "target_label"}.get(k, k): v for k, v in item.items()}
               for item in relabelings]
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rules],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [{
            "job_name": "synthetic",
            # The target's own namespace, as the operator labels an ingress-nginx target.
            "static_configs": [{"targets": [exporter], "labels": {"namespace": "ingress-nginx"}}],
            "metric_relabel_configs": spelled,
        }],
    }


def test_alerts_arrive_in_the_queue_subscribed_to_the_regions_topic(
    prod_rendered: RenderResult, environments: dict[str, Environment], exporter: str, processes: Processes,
    tmp_path: Path,
) -> None:
    boto3 = pytest.importorskip("boto3")
    prometheus, alertmanager = tool("prometheus"), alertmanager_binary(tmp_path)

    moto_port = free_port()
    moto = f"http://127.0.0.1:{moto_port}"
    command = moto_command(moto_port)
    assert command is not None, "moto_server is not installed (moto[server] in the dev extras)"
    processes.start("moto", command)
    wait_for(lambda: answers(moto), 30, "moto_server", lambda: processes.log("moto"))
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                   "AWS_DEFAULT_REGION": REGION}
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    sns, sqs = session.client("sns", endpoint_url=moto), session.client("sqs", endpoint_url=moto)

    config = rendered_config(prod_rendered)
    queues = {}
    for receiver in ("critical", "heartbeat"):
        target = next(r for r in config["receivers"] if r["name"] == receiver)["sns_configs"][0]
        topic = sns.create_topic(Name=target["topic_arn"].rsplit(":", 1)[1])["TopicArn"]
        assert topic == target["topic_arn"], "moto's account and region make the rendered stand-in ARN"
        queue_url = sqs.create_queue(QueueName=f"{receiver}-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        queues[receiver] = queue_url
    for receiver in config["receivers"]:
        for notifier in receiver.get("sns_configs", []):
            notifier["api_url"] = moto

    am_port = free_port()
    am_config = tmp_path / "alertmanager.yaml"
    am_config.write_text(yaml.safe_dump(config), encoding="utf-8")
    processes.start("alertmanager", [
        str(alertmanager), f"--config.file={am_config}", f"--storage.path={tmp_path / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
    ], env=credentials)
    wait_for(lambda: ready(f"http://127.0.0.1:{am_port}/-/ready"), 30, "Alertmanager",
             lambda: processes.log("alertmanager"))

    rules = [write_rules(tmp_path / "haflow.yaml", rule_groups(prod_rendered, HAFLOW_RULES)),
             write_rules(tmp_path / "general.yaml", rule_groups(prod_rendered, GENERAL_RULES))]
    monitor = prod_rendered.find("ServiceMonitor", "ingress-nginx-controller")
    assert monitor is not None
    relabelings = monitor.manifest["spec"]["endpoints"][0]["metricRelabelings"]
    prom_port = free_port()
    prom_config = tmp_path / "prometheus.yaml"
    prom_config.write_text(yaml.safe_dump(prometheus_config(rules, exporter, f"127.0.0.1:{am_port}", relabelings)),
                           encoding="utf-8")
    processes.start("prometheus", [
        str(prometheus), f"--config.file={prom_config}", f"--storage.tsdb.path={tmp_path / 'prom-data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
    ])
    wait_for(lambda: ready(f"http://127.0.0.1:{prom_port}/-/ready"), 30, "Prometheus",
             lambda: processes.log("prometheus"))

    def query(expression: str) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        with urllib.request.urlopen(url, timeout=5) as response:
            result: list[dict[str, Any]] = json.load(response)["data"]["result"]
            return result

    # The relabeling gives the request metrics the Ingress' namespace back (the model-api alerts select it).
    series = wait_for(lambda: query("nginx_ingress_controller_requests"), 30, "a scrape",
                      lambda: processes.log("prometheus"))
    assert series[0]["metric"]["namespace"] == "model-api" and "exported_namespace" not in series[0]["metric"]

    def received(queue: str) -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queues[queue], MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    def logs() -> str:
        return processes.log("alertmanager") + processes.log("prometheus")

    heartbeat = wait_for(lambda: received("heartbeat"), DELIVERY_TIMEOUT_SECONDS, "the Watchdog heartbeat", logs)
    assert "Watchdog" in heartbeat[0]["Message"]
    alerts: list[dict[str, Any]] = []

    def flow_run_alert() -> list[dict[str, Any]]:
        alerts.extend(received("critical"))
        return [a for a in alerts if "PrefectFlowRunFailed" in a["Message"]]

    (envelope, *_) = wait_for(flow_run_alert, DELIVERY_TIMEOUT_SECONDS, "PrefectFlowRunFailed on the alerts topic",
                              logs)
    assert "flow-run-e2e" in envelope["Message"]
    assert envelope["MessageAttributes"]["severity"]["Value"] == "warning"
    assert envelope["MessageAttributes"]["environment"]["Value"] == ENV
