"""Sphinx configuration: Markdown pages (MyST) plus API reference from the docstrings."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from parameters import write_parameter_pages  # noqa: E402

from airflow_provider_vimmerse import __version__  # noqa: E402

project = "airflow-provider-vimmerse"
author = "the airflow-provider-vimmerse authors"
copyright = "2026, the airflow-provider-vimmerse authors (Apache License 2.0)"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# The reference shows what this provider adds: no inherited BaseOperator members, no private
# names, no class attributes Airflow reads (template_fields, ui_color, ...).
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "exclude-members": "template_fields, template_fields_renderers, template_ext, operator_extra_links, ui_color, "
    "endpoint, conn_name_attr, default_conn_name, conn_type, hook_name, default_headers, "
    "execute, execute_complete, on_kill, poke, submit, api_arguments",
}
# Names from Airflow and the standard library that autodoc cannot resolve without their inventories.
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
html_theme = "furo"
# The site says which release it documents.
release = version = __version__
html_title = f"airflow-provider-vimmerse {release}"
pygments_style = "friendly"

# The parameter tables, the alias table and the value lists come from the endpoint specs
# (airflow_provider_vimmerse._endpoints), the one place they are stated.
write_parameter_pages(HERE / "_generated")
