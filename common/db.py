"""The bulk upsert every writer of history uses: one INSERT … ON CONFLICT UPDATE per batch."""

from django.db import connections, router


def upsert(model, objects: list, unique_fields: list[str], update_fields: list[str], batch_size: int | None = None):
    """Insert `objects`, updating `update_fields` of the rows whose `unique_fields` already exist.

    MySQL's form names no conflict target (it uses the unique key it hits), so none is passed there.
    `batch_size` splits a long list into several statements; None writes them in one.
    """
    if not objects:
        return
    db = router.db_for_write(model)
    target = unique_fields if connections[db].features.supports_update_conflicts_with_target else None
    step = batch_size or len(objects)
    for start in range(0, len(objects), step):
        model.objects.using(db).bulk_create(
            objects[start : start + step], update_conflicts=True, unique_fields=target, update_fields=update_fields
        )
