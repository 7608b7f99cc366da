"""Apache Airflow provider for the Vimmerse Story API."""

__all__ = ["__version__"]

__version__ = "0.2.0"
