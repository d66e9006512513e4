"""A real nginx running the rendered model-api Ingress's edge annotations, the way ingress-nginx writes them.

ingress-nginx turns these annotations into nginx directives in its template (rootfs/etc/nginx/template/nginx.tmpl
and internal/ingress/annotations/{auth,ratelimit}): ``auth-type: basic`` + ``auth-secret`` (an auth-file)
become ``auth_basic "<realm>"`` and ``auth_basic_user_file`` holding the Secret's ``auth`` key; ``limit-rps``
becomes a ``limit_req_zone $binary_remote_addr ... rate=<n>r/s`` and ``limit_req ... burst=<n x
limit-burst-multiplier (5)> nodelay``; ``limit-connections`` a ``limit_conn_zone $binary_remote_addr`` and
``limit_conn``; both answer 503 (the ConfigMap defaults limit-req-status-code and limit-conn-status-code); a
request for a host no Ingress names goes to the default backend (404). This module writes that translation;
nginx enforces it. The translation is haflow's reading of the controller, not the controller itself.

nginx comes from .tools/nginx (`make edge-tools`: Debian's nginx unpacked without root), $HAFLOW_NGINX or PATH;
without it a test skips, and fails instead with HAFLOW_REQUIRE_NGINX=1 (CI: .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from haflow import contract
from tests.conftest import REPO_ROOT

REQUIRE_NGINX = "HAFLOW_REQUIRE_NGINX"
LOCAL_NGINX = REPO_ROOT / ".tools" / "nginx" / "root" / "usr" / "sbin" / "nginx"
# ingress-nginx's defaults (docs/user-guide/nginx-configuration/configmap.md, annotations.md)
LIMIT_BURST_MULTIPLIER = 5
LIMIT_STATUS_CODE = 503


def nginx_binary() -> Path:
    for candidate in (os.environ.get("HAFLOW_NGINX"), LOCAL_NGINX, shutil.which("nginx")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    reason = f"nginx is neither $HAFLOW_NGINX nor in {LOCAL_NGINX} nor on PATH: run `make edge-tools`"
    if os.environ.get(REQUIRE_NGINX) == "1":
        pytest.fail(f"{reason} ({REQUIRE_NGINX}=1: the edge tests must run here)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_NGINX}=1 to make this a failure)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Edge:
    """One model-api Ingress rule as ingress-nginx would serve it: its host, its annotations, its auth file."""

    host: str
    annotations: Mapping[str, Any]
    auth_file: str  # the Secret's `auth` key: htpasswd lines


def nginx_conf(edge: Edge, workdir: Path, port: int, upstream_port: int) -> str:
    annotations = edge.annotations
    location: list[str] = []
    http: list[str] = [f"limit_req_status {LIMIT_STATUS_CODE};", f"limit_conn_status {LIMIT_STATUS_CODE};"]
    rps = int(annotations.get(contract.INGRESS_LIMIT_RPS_ANNOTATION, 0) or 0)
    if rps:
        http.append(f"limit_req_zone $binary_remote_addr zone=model_api_rps:5m rate={rps}r/s;")
        location.append(f"limit_req zone=model_api_rps burst={rps * LIMIT_BURST_MULTIPLIER} nodelay;")
    connections = int(annotations.get(contract.INGRESS_LIMIT_CONNECTIONS_ANNOTATION, 0) or 0)
    if connections:
        http.append("limit_conn_zone $binary_remote_addr zone=model_api_conn:5m;")
        location.append(f"limit_conn model_api_conn {connections};")
    if annotations.get(contract.INGRESS_AUTH_TYPE_ANNOTATION) == "basic":
        (workdir / "auth").write_text(edge.auth_file, encoding="utf-8")
        realm = annotations.get("nginx.ingress.kubernetes.io/auth-realm", "")
        location += [f'auth_basic "{realm}";', f"auth_basic_user_file {workdir / 'auth'};"]
    temp = "\n".join(f"  {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                          "uwsgi", "scgi"))
    # Started as root (CI), nginx's workers would run as nobody, who cannot read pytest's private tmp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
daemon off;
{user}
worker_processes 1;
pid {workdir / 'nginx.pid'};
error_log {workdir / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
  {chr(10).join(http)}
  # model-api's stand-in
  server {{ listen 127.0.0.1:{upstream_port}; location / {{ return 200 "model-api\\n"; }} }}
  # the default backend: any host no Ingress names
  server {{ listen 127.0.0.1:{port} default_server; location / {{ return 404; }} }}
  server {{
    listen 127.0.0.1:{port};
    server_name {edge.host};
    location / {{
      {chr(10).join(location)}
      proxy_pass http://127.0.0.1:{upstream_port};
    }}
  }}
}}
"""


@contextmanager
def running_nginx(edge: Edge, workdir: Path) -> Iterator[int]:
    """nginx serving ``edge`` on a loopback port (yielded) until the block ends."""
    binary = nginx_binary()
    port, upstream_port = free_port(), free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf(edge, workdir, port, upstream_port), encoding="utf-8")
    test = subprocess.run([str(binary), "-t", "-p", str(workdir), "-c", str(conf)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen([str(binary), "-p", str(workdir), "-c", str(conf)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, (workdir / "error.log").read_text(encoding="utf-8")
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
