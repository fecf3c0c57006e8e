"""The server's Prometheus metrics (docs/serving.md lists them).

Each app has its own metrics. In one process they live in the app's own CollectorRegistry. With
``--workers N`` the CLI sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start: every worker
then writes its values to files there (prometheus_client's multiprocess mode) and ``/metrics``,
whichever worker answers it, reads them all, so counters and histograms are the sums over
workers and gauges the sum over live workers.

Labels are only ids and tags that resolved (a model in the store, a tag in the registry): a
request for an id or tag that does not exist is counted without them, so a client cannot grow
the number of series by sending made-up names.
"""

from __future__ import annotations

import os

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# request latency: 100 us to 10 s, finer where single rows land
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0)
DELTA_BUCKETS = (0.0, 1e-12, 1e-9, 1e-6, 1e-3, 0.01, 0.1, 1.0)


class Metrics:
    """Every metric the server keeps, and the hooks that update them."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROCESS_VARIABLE))
        self.registry = CollectorRegistry()
        own = None if self.multiprocess else self.registry  # multiprocess: values go to files, read at scrape time
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self.registry)

        def counter(name, text, labels):
            return Counter(name, text, labels, registry=own)

        self.requests = counter(
            "crossform_serve_requests_total",
            "Predict requests answered, by tag ('' for /model), model id ('' when none resolved) and HTTP status",
            ["tag", "model_id", "code"],
        )
        self.rows = counter("crossform_serve_rows_total", "Rows scored", ["tag", "model_id"])
        self.row_errors = counter(
            "crossform_serve_row_errors_total", "Rows answered with a row error", ["tag", "model_id"]
        )
        self.latency = Histogram(
            "crossform_serve_request_seconds",
            "Predict request time from the body's arrival to the answer, for answered predictions",
            ["tag", "model_id"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.loads = counter(
            "crossform_serve_model_loads_total", "Models read from the store and warmed", ["model_id", "runtime"]
        )
        self.load_seconds = Histogram(
            "crossform_serve_model_load_seconds",
            "Time to read, prepare and warm a model",
            buckets=(0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=own,
        )
        self.swaps = counter(
            "crossform_serve_tag_swaps_total", "A tag switched to a new model (deploy or rollback)", ["tag"]
        )
        self.swap_failures = counter(
            "crossform_serve_tag_swap_failures_total",
            "A tag's new model failed to load; the old one kept serving",
            ["tag"],
        )
        self.shadow_dropped = counter(
            "crossform_serve_shadow_dropped_total", "Shadow jobs dropped because the shadow queue was full", ["tag"]
        )
        self.shadow_rows = counter(
            "crossform_serve_shadow_rows_total",
            "Shadow rows compared with the primary: same (every value within 1e-12 relative, or both row errors), "
            "different, or error (the shadow failed, or only one of the two refused the row)",
            ["tag", "shadow_id", "outcome"],
        )
        self.shadow_delta = Histogram(
            "crossform_serve_shadow_score_delta",
            "Largest absolute difference between a shadow's and the primary's values, per row both scored",
            ["tag", "shadow_id"],
            buckets=DELTA_BUCKETS,
            registry=own,
        )
        self._shadow_children: dict = {}
        gauge_mode = {"multiprocess_mode": "livesum"} if self.multiprocess else {}
        self.models_loaded = Gauge("crossform_serve_models_loaded", "Models in the cache", registry=own, **gauge_mode)
        self.cache_bytes = Gauge(
            "crossform_serve_model_cache_bytes", "Estimated bytes of the cached models", registry=own, **gauge_mode
        )

    def render(self) -> tuple:
        """(body, content type) of a scrape."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # --- hooks ---------------------------------------------------------------------------------

    def model_loaded(self, model, seconds: float, cache) -> None:
        self.loads.labels(model.id, model.runtime).inc()
        self.load_seconds.observe(seconds)
        self.models_loaded.set(len(cache.models()))
        self.cache_bytes.set(cache.nbytes)

    def shadow_result(self, record: dict) -> None:
        """ShadowPool's on_result hook: one record per shadow per request (docs/shadows.md)."""
        self.count_shadow(shadow_outcome(record))

    def count_shadow(self, outcome: tuple) -> None:
        """Count what :func:`shadow_outcome` made of one record (in this process or the shadows')."""
        _, tag, shadow_id, rows, worst = outcome
        for name, count in rows.items():
            if count:
                self._shadow_child("rows", tag, shadow_id, name).inc(count)
        if worst:
            delta = self._shadow_child("delta", tag, shadow_id)
            for value in worst:
                delta.observe(value)

    def _shadow_child(self, metric: str, *labels):
        # labels() looks its child up under a lock (and in multiprocess mode opens its value files)
        # each time; the shadow counts come several per request, so the children are kept here
        key = (metric, labels)
        child = self._shadow_children.get(key)
        if child is None:
            family = self.shadow_rows if metric == "rows" else self.shadow_delta
            child = self._shadow_children[key] = family.labels(*labels)
        return child


def shadow_outcome(record: dict) -> tuple:
    """What the agreement metrics take from one shadow record, small enough to send between
    processes: ("scored" or "failed", tag, shadow id, {"same", "different", "error": rows}, the
    largest |shadow - primary| of each row both scored). Rows are paired as the shadow report
    pairs them (report.record_agreement), so the metrics and the report count alike."""
    import numpy as np

    from .report import record_agreement

    tag, shadow_id = record.get("tag") or "", record.get("shadow_id") or ""
    if record.get("error") is not None:
        return "failed", tag, shadow_id, {"error": max(1, len(record.get("primary_errors") or ()))}, []
    agreement = record_agreement(record)
    one_refused = int(agreement.primary_only.sum() + agreement.shadow_only.sum())
    both_refused = agreement.compared.size - int(agreement.compared.sum()) - one_refused
    primary, shadow = agreement.primary, agreement.shadow
    with np.errstate(invalid="ignore"):
        difference = np.abs(shadow - primary)
        within = (shadow == primary) | (difference <= 1e-12 * np.abs(primary))
    same_outputs = (
        list(agreement.outputs) == record.get("outputs") == record.get("shadow_outputs", record.get("outputs"))
    )
    same = int(within.all(axis=1).sum()) if same_outputs else 0
    worst = np.where(np.isnan(difference), np.inf, difference).max(axis=1, initial=0.0)
    rows = {"same": same + both_refused, "different": len(worst) - same, "error": one_refused}
    return "scored", tag, shadow_id, rows, [float(v) for v in worst]
