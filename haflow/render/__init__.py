"""The render gate: the platform stacks' Helm releases rendered with the pinned charts by Helm's own engine,
plus the stacks' kubernetes_* resources, read back as the Kubernetes objects the cluster would receive.

    from haflow.render import render_environment
    result = render_environment(stacks, env)      # charts_dir=None: the chart cache, then ../shared/reference/charts
    result.objects                                # list[RenderedObject]
    result.find("Deployment", "prefect-server", "prefect")

Reads synthesized stacks only (through haflow.plan); never imports constructs, stacks or the app.
The engine (a `helm` binary or helm-python-sdk) and kubernetes-validate are the optional `render` extra,
imported only when a render runs.
"""

from haflow.render.gate import RenderUnavailable, render_environment
from haflow.render.model import RenderedObject, RenderedRelease, RenderResult

__all__ = ["RenderResult", "RenderUnavailable", "RenderedObject", "RenderedRelease", "render_environment"]
