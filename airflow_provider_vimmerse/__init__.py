"""Apache Airflow provider for the Vimmerse Story API."""

__version__ = "0.2.0"
