from django import template

from common.formatting import human_bytes

register = template.Library()


@register.filter(name="human_bytes")
def human_bytes_filter(value):
    return human_bytes(value)
