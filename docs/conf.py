"""Sphinx configuration: Markdown pages (MyST) plus API reference from the docstrings."""

project = "airflow-provider-vimmerse"
author = "airflow-provider-vimmerse developers"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Names from Airflow and the standard library that autodoc cannot resolve without their inventories.
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
html_title = "airflow-provider-vimmerse"
