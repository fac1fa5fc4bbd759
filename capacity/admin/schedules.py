"""django-q2's schedule list with the translated titles of the capacity schedules.

The stored names are keys (capacity.schedules finds its rows by them), so they are not translated;
the list shows the title in the reader's language in their place.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_q.admin import ScheduleAdmin
from django_q.models import Schedule

from ..schedules import schedule_title


class TitledScheduleAdmin(ScheduleAdmin):
    list_display = tuple("title" if field == "name" else field for field in ScheduleAdmin.list_display)
    list_display_links = ("id", "title")

    @admin.display(description=_("name"), ordering="name")
    def title(self, obj):
        return schedule_title(obj.name)


if admin.site.is_registered(Schedule):
    admin.site.unregister(Schedule)
admin.site.register(Schedule, TitledScheduleAdmin)
