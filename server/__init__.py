"""HTTP service: JSON API, OpenAI-compatible chat endpoint and a chat page, over one shared Engine.

`server.app:app` is the ASGI app (reads QA_* settings); `server.run` serves it with granian (`qa serve`).
"""
