"""
A local, Vimmerse-compatible Story API server that really runs the pipeline and renders real MP4s.

Start it with ``vimmerse-sandbox`` (or ``python -m vimmerse_sandbox``), or in Python tests with
:class:`~vimmerse_sandbox.server.SandboxServer`. It is its own distribution, written from the
service's published OpenAPI document, and shares no code with any client.
"""

__version__ = "0.2.0"
