"""What alerting does when capacity says a collection run finished: evaluate the instances it measured."""

from django.dispatch import receiver

from capacity.signals import collection_finished

from .services import evaluate_after_collection


@receiver(collection_finished, dispatch_uid="alerting.evaluate_after_collection")
def evaluate_collected_instances(sender, session, **kwargs):
    evaluate_after_collection(session)  # logs its own failures: alerting never fails a collection
