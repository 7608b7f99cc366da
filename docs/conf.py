"""Sphinx configuration: Markdown pages (MyST) plus API reference from the docstrings."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from parameters import write_parameter_pages  # noqa: E402

project = "airflow-provider-vimmerse"
author = "airflow-provider-vimmerse developers"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Names from Airflow and the standard library that autodoc cannot resolve without their inventories.
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
html_title = "airflow-provider-vimmerse"

# The parameter tables, the alias table and the value lists come from the endpoint specs
# (airflow_provider_vimmerse.endpoints), the one place they are stated.
write_parameter_pages(HERE / "_generated")
