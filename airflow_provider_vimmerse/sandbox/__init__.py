"""
A local, Vimmerse-compatible Story API server that really runs the pipeline and renders real MP4s.

Start it with ``vimmerse-sandbox`` (or ``python -m airflow_provider_vimmerse.sandbox``), or in
tests with :class:`~airflow_provider_vimmerse.sandbox.server.SandboxServer`. Rendering needs the
``sandbox`` extra: ``pip install "airflow-provider-vimmerse[sandbox]"``.
"""
