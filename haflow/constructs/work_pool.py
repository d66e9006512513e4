"""The base job template of the Prefect Kubernetes work pool: where and as whom flow runs start.

Prefect's default template creates each flow-run Job in namespace ``default`` with no service account,
while the worker's RBAC covers only its own namespace and the flow IRSA role trusts exactly
``<flow_run_namespace>:prefect-flow-run``. This template is prefect-kubernetes 3.8.3's default
(``prefect_kubernetes.worker._get_default_job_manifest_template`` and ``KubernetesWorkerVariables``)
with the namespace defaulting to the flow-run namespace and the service account fixed: the default template's
``service_account_name`` variable is gone, so no deployment can start its flow runs as the worker's account (and
so with the worker's RBAC) through a job variable. The flow-run account holds the flow IRSA role and no RBAC.
https://github.com/PrefectHQ/prefect/blob/3.8.3/src/integrations/prefect-kubernetes/prefect_kubernetes/worker.py
"""

from __future__ import annotations

import json
from typing import Any

# Finished flow-run Jobs are removed after a day: their logs are in CloudWatch and the run state in Prefect.
FINISHED_JOB_TTL_SECONDS = 86_400


def _variable(kind: str | list[str], description: str, default: Any = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind, "description": description, **extra}
    if default is not None:
        schema["default"] = default
    return schema


def base_job_template(*, namespace: str, service_account: str) -> dict[str, Any]:
    """The template as the work pool stores it: a JSON schema of variables and the job configuration."""
    variables = {
        "name": _variable("string", "Name given to infrastructure created by the worker."),
        "env": _variable("object", "Environment variables to set when starting a flow run.",
                         additionalProperties={"type": ["string", "null"]}),
        "labels": _variable("object", "Labels applied to infrastructure created by the worker.",
                            additionalProperties={"type": "string"}),
        "command": _variable("string", "The command to use when starting a flow run."),
        "annotations": _variable("object", "Annotations applied to Kubernetes jobs and pods created by the worker.",
                                 additionalProperties={"type": "string"}),
        "namespace": _variable("string", "The Kubernetes namespace to create jobs within.", namespace),
        "image": _variable("string", "The image reference of a container image to use for created jobs."),
        "image_pull_policy": _variable("string", "The Kubernetes image pull policy to use for job containers.",
                                       "IfNotPresent", enum=["IfNotPresent", "Always", "Never"]),
        "backoff_limit": _variable("integer", "Times Kubernetes retries a job after pod eviction.", 0, minimum=0),
        "finished_job_ttl": _variable("integer", "Seconds to retain jobs after completion.",
                                      FINISHED_JOB_TTL_SECONDS),
        "job_watch_timeout_seconds": _variable("integer", "Seconds to wait for each event emitted by a job."),
        "pod_watch_timeout_seconds": _variable("integer", "Seconds to watch for pod creation before timing out.",
                                               60),
        "stream_output": _variable("boolean", "Stream the job's output to the worker's log.", True),
        "cpu_request": _variable("string", "CPU request of the job container (e.g. 500m)."),
        "cpu_limit": _variable("string", "CPU limit of the job container."),
        "memory_request": _variable("string", "Memory request of the job container (e.g. 512Mi)."),
        "memory_limit": _variable("string", "Memory limit of the job container."),
    }
    job_manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "annotations": "{{ annotations }}",
            "labels": "{{ labels }}",
            "namespace": "{{ namespace }}",
            "generateName": "{{ name }}-",
        },
        "spec": {
            "backoffLimit": "{{ backoff_limit }}",
            "ttlSecondsAfterFinished": "{{ finished_job_ttl }}",
            "template": {
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "restartPolicy": "Never",
                    "serviceAccountName": service_account,
                    "containers": [
                        {
                            "name": "prefect-job",
                            "env": "{{ env }}",
                            "image": "{{ image }}",
                            "imagePullPolicy": "{{ image_pull_policy }}",
                            "args": "{{ command }}",
                            "resources": {
                                "limits": {"cpu": "{{ cpu_limit }}", "memory": "{{ memory_limit }}"},
                                "requests": {"cpu": "{{ cpu_request }}", "memory": "{{ memory_request }}"},
                            },
                        }
                    ],
                }
            },
        },
    }
    return {
        "job_configuration": {
            "command": "{{ command }}",
            "env": "{{ env }}",
            "labels": "{{ labels }}",
            "name": "{{ name }}",
            "annotations": "{{ annotations }}",
            "namespace": "{{ namespace }}",
            "job_manifest": job_manifest,
            "stream_output": "{{ stream_output }}",
            "job_watch_timeout_seconds": "{{ job_watch_timeout_seconds }}",
            "pod_watch_timeout_seconds": "{{ pod_watch_timeout_seconds }}",
        },
        "variables": {"description": "Variables of the haflow Kubernetes work pool", "type": "object",
                      "properties": variables},
    }


def base_job_template_json(*, namespace: str, service_account: str) -> str:
    """The template as the prefect-worker chart takes it (worker.config.baseJobTemplate.configuration)."""
    return json.dumps(base_job_template(namespace=namespace, service_account=service_account), sort_keys=True)
