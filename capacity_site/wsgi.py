import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_site.settings")
application = get_wsgi_application()

# What is loaded by now (settings, models, the admin, and with the URLconf every view) lives as long as
# the worker. Frozen, it is left out of the collector's full passes, which otherwise walk those ~100k
# objects every so often and stall the request that happens to trigger one by tens of milliseconds.
get_resolver().url_patterns  # noqa: B018 - imports the views now, so they are frozen with the rest
gc.freeze()
