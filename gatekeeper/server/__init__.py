"""``gatekeeper serve``: the tool interface, the gate and health over HTTP.

Importing this package imports nothing of Starlette or uvicorn; only
:mod:`gatekeeper.server.app` does (the ``server`` extra), so no other command
pays for them. :mod:`gatekeeper.server.keys` (the API keys) works without the extra.
"""
