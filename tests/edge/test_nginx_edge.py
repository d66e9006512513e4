"""The rendered model-api Ingress's edge annotations, enforced by a real nginx (tests/edge/nginx.py says how they
become directives, as ingress-nginx's template writes them): a request without a client key gets 401, a listed
client and key get through, another host gets the default backend's 404, and a client over its rate gets 503."""

from __future__ import annotations

import base64
import http.client
import time
import warnings
from pathlib import Path

import pytest

from haflow.render import RenderResult
from tests.edge.nginx import LIMIT_BURST_MULTIPLIER, Edge, running_nginx

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # bcrypt through libxcrypt, as `htpasswd -nbB` writes it (Python 3.11; gone in 3.13)

CLIENT, KEY = "batch-scorer", "k3y-from-the-client-handover"


def htpasswd_line(user: str, key: str) -> str:
    return f"{user}:{crypt.crypt(key, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n"


def prod_edge(rendered_prod: RenderResult) -> Edge:
    ingress = rendered_prod.find("Ingress", "model-api", "model-api")
    assert ingress is not None
    (rule,) = ingress.manifest["spec"]["rules"]
    return Edge(rule["host"], ingress.manifest["metadata"]["annotations"], htpasswd_line(CLIENT, KEY))


def request(port: int, host: str, credentials: tuple[str, str] | None = None,
            connection: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str]]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Host": host}
    if credentials:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    conn.request("GET", "/v1/models", headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status, dict(response.getheaders())


def test_authentication_and_host(rendered_prod: RenderResult, tmp_path: Path) -> None:
    edge = prod_edge(rendered_prod)
    with running_nginx(edge, tmp_path) as port:
        status, headers = request(port, edge.host)
        assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="model-api"'
        assert request(port, edge.host, (CLIENT, "a-guessed-key"))[0] == 401
        assert request(port, edge.host, ("someone-else", KEY))[0] == 401
        assert request(port, edge.host, (CLIENT, KEY))[0] == 200
        # the NLB's own name: no Ingress names it, the default backend answers
        assert request(port, "a1b2c3-0123456789.elb.us-east-1.amazonaws.com", (CLIENT, KEY))[0] == 404


def test_a_client_over_its_rate_gets_503_before_its_key_is_checked(rendered_prod: RenderResult,
                                                                   tmp_path: Path) -> None:
    """nginx's preaccess phase (limit_req) runs before its access phase (auth_basic): a flood without a key is
    limited like any other, and never costs a bcrypt check past the burst."""
    edge = prod_edge(rendered_prod)
    rps = int(edge.annotations["nginx.ingress.kubernetes.io/limit-rps"])
    burst = rps * LIMIT_BURST_MULTIPLIER
    with running_nginx(edge, tmp_path) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        started = time.monotonic()
        statuses = [request(port, edge.host, connection=conn)[0] for _ in range(burst + 4 * rps)]
        seconds = time.monotonic() - started
    assert set(statuses) == {401, 503}, sorted(set(statuses))
    # the burst passes at once, plus what the rate refilled while the requests ran; the rest is refused
    passed = statuses.count(401)
    assert burst < passed <= burst + 1 + rps * seconds + 1, (passed, seconds)
    assert statuses[-1] == 503
