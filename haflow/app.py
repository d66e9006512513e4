"""Build the cdktf App: the bootstrap stack, then one foundation and one platform stack per environment,
and the DR foundation and DR platform stacks of an environment with disaster recovery, and with DNS failover
(dr.dns) the alarms on its health checks (<env>-dns-alarms, in us-east-1)."""

from __future__ import annotations

from cdktf import App

from haflow.config.model import Environment
from haflow.stacks.bootstrap import BootstrapStack
from haflow.stacks.dns_alarms import DnsAlarmsStack
from haflow.stacks.dr_foundation import DrFoundationStack
from haflow.stacks.dr_platform import DrPlatformStack
from haflow.stacks.foundation import FoundationStack
from haflow.stacks.platform import PlatformStack


def build_app(
    environments: list[Environment], outdir: str | None = None, bootstrap_from: list[Environment] | None = None
) -> App:
    """``outdir`` left out: cdktf's default (``cdktf.out``, or what the cdktf CLI passes in).

    ``bootstrap_from``: the environments whose state buckets the bootstrap stack holds (default: all
    of ``environments``), so one environment's synth keeps the shared bootstrap stack whole.
    """
    # Stack traces in the manifest would carry absolute paths of this machine.
    app = App(outdir=outdir, stack_traces=False) if outdir else App(stack_traces=False)
    BootstrapStack(app, environments=bootstrap_from or environments)
    for env in environments:
        foundation = FoundationStack(app, env=env)
        PlatformStack(app, env=env, inputs=foundation.platform_inputs)
        if env.dr.enabled:
            dr_foundation = DrFoundationStack(app, env=env)
            DrPlatformStack(app, env=env, inputs=dr_foundation.platform_inputs)
            if dr_foundation.dns is not None:
                DnsAlarmsStack(app, env=env, health_check_ids={
                    role: check.id for role, check in dr_foundation.dns.health_checks.items()})
    return app
