"""``crossform serve``: predictions over HTTP by model id and by tag, hot swaps on deploy, shadows.

app (the Starlette app and its routes), models (the model cache: load once, fastest exact
runtime, warm, LRU), follow (tags kept on the registry's current id), inputs (request bodies and
limits), metrics (Prometheus), config (what a server is started with), shadows (shadow models
scored off the request path, and their log) and report (the shadow report and its page).
Importing this package imports no web framework: the server's modules import Starlette
themselves, and nothing in the core imports this package. docs/serving.md and docs/shadows.md
are the user's pages.
"""
