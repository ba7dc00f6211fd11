"""The API against its own OpenAPI schema: generated requests, no 500, every answer as documented.

Schemathesis reads /api/openapi.json from the WSGI app and sends each operation a few dozen
generated requests (valid and invalid ones) with a real device token; every answer must have a
documented status, content type and body.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from fermentrack.web.beers.ingest import store_points
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device

T0 = 1_700_000_000
_handler = WSGIHandler()


def app(environ, start_response):
    """Django's WSGI app, keeping the test's database connection (and its transaction) open.

    A real request closes old connections when it starts and ends; inside a test that would
    throw away the transaction that holds the test's data, so, as Django's test client does,
    those signal handlers are off for the request, and the answer is read before they return.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer = _handler(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            answer.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture
def device_token(db) -> str:
    """A device with a little log and a beer, an open dashboard, and the device's token."""
    device = Device(name="fridge-1", simulated=True)
    token = device.issue_token()
    device.save()
    store_points(
        device, [LogPoint(ts=T0 + 30 * i, beer_temp=20.0, temp_format="C") for i in range(50)]
    )
    Beer.objects.create(device=device, name="Pale Ale", started_at=T0, ended_at=T0 + 3600)
    brewery = BrewerySettings.load()
    brewery.dashboard_requires_login = False
    brewery.save()
    return token


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_api_answer_matches_the_schema_and_none_is_a_server_error(case, device_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {device_token}"})
