"""``crossform serve``: predictions over HTTP by model id and by tag, hot swaps on deploy, shadows.

app (the Starlette app and its routes), models (the model cache: load once, fastest exact
runtime, warm, LRU), follow (tags kept on the registry's current id), inputs (request bodies and
limits), metrics (Prometheus), config (what a server is started with). Needs the ``serve`` extra;
nothing in the core imports this package. docs/serving.md is the user's page.
"""
