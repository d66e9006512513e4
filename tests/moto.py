"""The session's moto_server (haflow/drill/motoserver.py) as a fixture: the drills and the Terraform gate share
it. A module of its own so that a pytest run can load it alone (``-p tests.moto``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from haflow.drill.motoserver import MotoUnavailable, moto_server


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto_server started for this session; terminated (killed if need be) at its end."""
    try:
        with moto_server(tmp_path_factory.mktemp("moto") / "moto_server.log") as url:
            yield url
    except MotoUnavailable as err:
        pytest.fail(str(err))
