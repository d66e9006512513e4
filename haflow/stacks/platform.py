"""<env>-platform: the Kubernetes half of an environment, installed into the foundation's EKS cluster.

Helm and Kubernetes providers point at the cluster through the foundation's outputs (cdktf turns
each PlatformInputs attribute into a cross-stack reference) and authenticate with short-lived
tokens from ``aws eks get-token`` on every run, never with a stored token. Order of installation:
namespaces (the workloads', and monitoring and logging, which several releases write into) and the default
StorageClass; cluster services (metrics-server, kube-prometheus-stack, whose CRDs later releases use,
fluent-bit, cluster-autoscaler); External Secrets and the synced secrets; ingress-nginx; Prefect; model-api.
"""

from __future__ import annotations

from cdktf import Fn, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_helm.provider import HelmProvider
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider
from constructs import Construct

from haflow.config.model import Environment, StateBackend
from haflow.config.network_flows import flow_inputs
from haflow.constructs import model_api, prefect
from haflow.constructs.autoscaling import ClusterAutoscaler
from haflow.constructs.gpu import NvidiaDevicePlugin
from haflow.constructs.grafana import Grafana, grafana_synced_secrets
from haflow.constructs.ingress import IngressNginx
from haflow.constructs.model_api import ModelApiWorkload, model_api_synced_secrets
from haflow.constructs.network_policy import NetworkPolicies
from haflow.constructs.observability import AlertDelivery, ClusterObservability, observability_synced_secrets
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.prefect import PrefectPlatform, prefect_synced_secrets
from haflow.constructs.reloader import Reloader
from haflow.constructs.secrets import ExternalSecrets
from haflow.constructs.storage import DefaultStorageClass
from haflow.constructs.structs import struct_kwargs
from haflow.flows import LOGGING_NAMESPACE, MONITORING_NAMESPACE
from haflow.stacks.backend import use_s3_backend

# https://docs.aws.amazon.com/eks/latest/userguide/create-kubeconfig.html (the exec credential plugin)
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
# Pod Security Admission: enforce baseline everywhere haflow runs workloads, warn on restricted.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
}
# The host agents' namespaces: node-exporter (host network and PID, hostPath) and fluent-bit (hostPath) need
# the privileged level, which is also what a namespace without labels gets.
HOST_AGENT_POD_SECURITY_LABELS = {"pod-security.kubernetes.io/enforce": "privileged"}


def eks_token_command(inputs: PlatformInputs) -> dict[str, object]:
    """The exec block both providers use: a fresh token per Terraform run, from the caller's AWS identity."""
    return {
        "api_version": EXEC_API_VERSION,
        "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", inputs.cluster_name, "--region", inputs.region],
    }


class PlatformStack(TerraformStack):
    """Everything Kubernetes-side of one environment."""

    def __init__(
        self, scope: Construct, *, env: Environment, inputs: PlatformInputs, stack_name: str | None = None,
        state: StateBackend | None = None, prefect_standby: bool = False,
    ) -> None:
        """``stack_name`` and ``state`` left out: ``<env>-platform`` in the environment's state bucket
        (the DR platform stack passes its own, in the secondary region). ``prefect_standby``: the Prefect tier
        at 0 pods, for a cluster whose database is a read-only secondary (left out: the tier runs)."""
        stack_name = stack_name or env.platform_stack_name
        super().__init__(scope, stack_name)
        self.env = env
        use_s3_backend(self, state or env.state, stack_name)
        cluster_ca = Fn.base64decode(inputs.cluster_certificate_authority_data)
        self.helm = HelmProvider(
            self, "helm",
            kubernetes={
                "host": inputs.cluster_endpoint,
                "cluster_ca_certificate": cluster_ca,
                "exec": eks_token_command(inputs),
            },
        )
        self.kubernetes = KubernetesProvider(
            self, "kubernetes",
            **struct_kwargs(KubernetesProvider, {
                "host": inputs.cluster_endpoint,
                "cluster_ca_certificate": cluster_ca,
                "exec": [eks_token_command(inputs)],
            }),
        )

        namespaces = {
            name: NamespaceV1(
                self, f"namespace-{name}",
                metadata={"name": name, "labels": {**POD_SECURITY_LABELS, "app.kubernetes.io/part-of": "haflow"}},
                provider=self.kubernetes,
            )
            for name in (prefect.SERVER_NAMESPACE, env.prefect.flow_run_namespace, model_api.NAMESPACE)
        }
        # Terraform creates the namespaces more than one release writes into (HA-RND-014): the synced secrets and
        # Reloader's Role land in monitoring next to kube-prometheus-stack and Grafana.
        namespaces.update({
            name: NamespaceV1(
                self, f"namespace-{name}",
                metadata={"name": name,
                          "labels": {**HOST_AGENT_POD_SECURITY_LABELS, "app.kubernetes.io/part-of": "haflow"}},
                provider=self.kubernetes,
            )
            for name in (MONITORING_NAMESPACE, LOGGING_NAMESPACE)
        })

        self.storage = DefaultStorageClass(self, "storage", provider=self.kubernetes)
        self.observability = ClusterObservability(
            self, "observability", config=env.observability, region=inputs.region,
            delivery=AlertDelivery(
                environment=env.name, region=inputs.region, role_arn=inputs.alertmanager_role_arn,
                topic_arn=inputs.alerts_topic_arn, heartbeat_topic_arn=inputs.alerts_heartbeat_topic_arn,
            ),
            log_group_name=inputs.container_log_group_name, fluent_bit_role_arn=inputs.fluent_bit_role_arn,
            flow_run_namespace=env.prefect.flow_run_namespace, storage_class=self.storage.name,
            slo_availability_percent=env.slo.availability,
            provider=self.helm,
            depends_on=[self.storage.storage_class, namespaces[MONITORING_NAMESPACE], namespaces[LOGGING_NAMESPACE]],
        )
        self.cluster_autoscaler = ClusterAutoscaler(
            self, "cluster-autoscaler", cluster_name=inputs.cluster_name, region=inputs.region,
            role_arn=inputs.cluster_autoscaler_role_arn, provider=self.helm,
        )
        self.secrets = ExternalSecrets(
            self, "external-secrets", config=env.secrets, region=inputs.region,
            role_arn=inputs.external_secrets_role_arn,
            store_roles=inputs.secret_store_roles(env.prefect.flow_run_namespace),
            secrets=[*prefect_synced_secrets(inputs, env.prefect.flow_run_namespace),
                     *model_api_synced_secrets(inputs, env.model_api),
                     *observability_synced_secrets(env.observability.alerts),
                     *grafana_synced_secrets(inputs.grafana_admin_secret_arn)],
            provider=self.helm,
            depends_on=list(namespaces.values()),
        )
        # Reloader rolls only the Deployments annotated with reload_on (haflow.constructs.reloader): Prefect's server
        # tier, the worker in the flow-run namespace (the API password), Grafana in monitoring (its admin password).
        self.reloader = Reloader(
            self, "reloader",
            watched_namespaces=sorted({prefect.SERVER_NAMESPACE, env.prefect.flow_run_namespace, MONITORING_NAMESPACE}),
            provider=self.helm,
            depends_on=[namespaces[name] for name in
                        (prefect.SERVER_NAMESPACE, env.prefect.flow_run_namespace, MONITORING_NAMESPACE)],
        )
        self.grafana = Grafana(
            self, "grafana", flow_run_namespace=env.prefect.flow_run_namespace, helm_provider=self.helm,
            kubernetes_provider=self.kubernetes,
            depends_on=[self.observability.monitoring, self.secrets.synced, self.reloader.release],
        )
        # Its ServiceMonitor needs the monitoring CRDs.
        self.ingress = IngressNginx(
            self, "ingress", config=env.ingress, served_namespace=model_api.NAMESPACE,
            certificate_arn=inputs.certificate_arn, provider=self.helm,
            depends_on=[self.observability.monitoring, namespaces[model_api.NAMESPACE]],
        )
        self.prefect = PrefectPlatform(
            self, "prefect", config=env.prefect, inputs=inputs, provider=self.helm,
            kubernetes_provider=self.kubernetes, secrets_refresh_interval=env.secrets.refresh_interval,
            standby=prefect_standby,
            depends_on=[self.secrets.synced, self.reloader.release, *namespaces.values()],
        )
        # GPU nodes advertise nvidia.com/gpu only once the device plugin runs on them.
        self.gpu_device_plugin = (
            NvidiaDevicePlugin(self, "nvidia-device-plugin", provider=self.helm)
            if env.eks.gpu_node_pool.enabled else None
        )
        self.model_api = ModelApiWorkload(
            self, "model-api", config=env.model_api, inputs=inputs, ingress_class=self.ingress.ingress_class,
            ingress_controller=self.ingress.release, provider=self.kubernetes,
            depends_on=[
                namespaces[model_api.NAMESPACE], self.secrets.synced,
                *([self.gpu_device_plugin.release] if self.gpu_device_plugin else []),
            ],
        )

        # Closed by default: each namespace's default-deny lands with its allow rules, once the releases that
        # create the namespaces have run (haflow/flows.py holds the flows).
        self.network_policies = NetworkPolicies(
            self, "network-policies",
            inputs=flow_inputs(env, secondary=stack_name == env.dr_platform_stack_name),
            provider=self.helm,
            depends_on=[
                *namespaces.values(), self.observability.monitoring, self.observability.logging,
                self.secrets.operator, self.reloader.release, self.ingress.release,
            ],
        )

        TerraformOutput(self, "prefect_api_url", value=self.prefect.api_url,
                        description="In-cluster URL of the Prefect API")
        # Read here whether or not the worker is installed (a DR standby installs none): the foundation's
        # cross-stack outputs then stay the same when dr.serving flips, so a failover applies no foundation change.
        TerraformOutput(self, "prefect_flow_run_role_arn", value=inputs.prefect_flow_run_role_arn,
                        description="IAM role the Prefect flow runs' service account assumes (IRSA)")
