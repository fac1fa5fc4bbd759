"""The OpenAPI schema tells the truth: a bounded property-based run of schemathesis over every operation.

Requests are generated from /api/schema/'s own document and sent to the live WSGI app in-process, signed in
as a superuser with a token, over a small fleet with history. Each answer must not be a server error and
must match what the schema says for its status (fields, types, nullability, enums). Bounded: a few
examples per operation and a fixed seed (derandomize), so a run is short and repeatable. Operations that
would reach out to a database server (test-connection, sync-capacity, a queued collection) are left out.
"""

import json
from datetime import date

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from alerting.choices import AlertKind
from alerting.models import AlertRule
from instances.engines import DatabaseSize
from tests.api.conftest import add_collection

MAX_EXAMPLES = 3


def _schema_document() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


schema = schemathesis.openapi.from_dict(_schema_document()).exclude(
    path_regex=r"(test-connection|sync-capacity|/capacity/collect/|/cancel/)"
)
schema.app = get_wsgi_application()


@pytest.fixture
def same_connection():
    """The app runs in this thread inside the test's transaction: keep its requests from closing the
    connection at their start and end, as Django's own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, same_connection, django_user_model, make_target):
    user = django_user_model.objects.create_superuser("schemathesis", "st@example.com", "x-unused-x")
    orders = make_target("orders", db_type="mysql", capacity_limit_bytes=10 * 2**30)
    make_target("billing", db_type="postgresql", credential=None)
    add_collection(orders, date(2025, 6, 29), {"sales": 3 * 2**20, "logs": 2**20})
    add_collection(
        orders,
        date(2025, 6, 30),
        {
            "sales": 4 * 2**20,
            "mysql": DatabaseSize(name="mysql", size_bytes=2**20, data_size_bytes=2**20, is_system=True),
        },
        deleted={"logs": 2**20},
    )
    AlertRule.objects.create(name="fleet", kind=AlertKind.DATABASE_SIZE, threshold_bytes=2**20)
    AlertRule.objects.create(name="orders", kind=AlertKind.TOTAL_SIZE, threshold_bytes=2**20, instance=orders)
    return Token.objects.create(user=user).key


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
