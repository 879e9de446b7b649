"""Prometheus view of the model replicas: requests in flight, served, failed and ejection, per replica.

Read at scrape time from the registry's replica pools (``assistant.llm.replicas``), so the figures are those the
balancer itself uses; nothing is counted twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from assistant.llm.registry import ModelRegistry
from assistant.llm.replicas import ReplicaPoolBackend

__all__ = ["ReplicaCollector"]

_LABELS = ["backend", "replica", "url"]


class ReplicaCollector(Collector):
    """Collects the replica pools of the registry ``models()`` returns (``None`` before start-up)."""

    def __init__(self, models: Callable[[], ModelRegistry | None]) -> None:
        self._models = models

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        outstanding = GaugeMetricFamily(
            "souverain_llm_replica_outstanding", "Requêtes en cours sur le réplica.", labels=_LABELS
        )
        ejected = GaugeMetricFamily(
            "souverain_llm_replica_ejected", "1 quand le réplica est écarté après des échecs.", labels=_LABELS
        )
        served = CounterMetricFamily("souverain_llm_replica_served", "Réponses servies par le réplica.", labels=_LABELS)
        failed = CounterMetricFamily(
            "souverain_llm_replica_failures", "Échecs du réplica (avant ou pendant la réponse).", labels=_LABELS
        )
        registry = self._models()
        pools = (
            {model.backend_name: model.backend for model in registry.models(include_withdrawn=True)}
            if registry is not None
            else {}
        )
        now = time.monotonic()
        for name, backend in sorted(pools.items()):
            if not isinstance(backend, ReplicaPoolBackend):
                continue
            for replica in backend.replicas:
                labels = [name, replica.name, replica.url]
                outstanding.add_metric(labels, replica.outstanding)
                ejected.add_metric(labels, 1.0 if replica.ejected(now) else 0.0)
                served.add_metric(labels, replica.served)
                failed.add_metric(labels, replica.failures)
        yield from (outstanding, ejected, served, failed)
