"""Apache Airflow provider for the Vimmerse Story API."""

__version__ = "0.1.0"
