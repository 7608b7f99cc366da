"""Writes the docs' parameter reference from the endpoint specs, so the docs never restate a default."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_vimmerse import _endpoints as api


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def parameter_tables() -> str:
    lines = []
    for endpoint in api.ENDPOINTS.values():
        lines += [
            f"### `{endpoint.name}`",
            "",
            f"{endpoint.summary}: `{endpoint.method} /v2{endpoint.path}` (JSON body); Legacy: "
            f"`{endpoint.method} {endpoint.path}`, {endpoint.body} body.",
            "",
        ]
        lines += ["| argument | service default (last seen; not sent when unset) | meaning |", "| --- | --- | --- |"]
        if endpoint.on_story:
            lines.append("| `story_id` | required | the story |")
        for param in endpoint.params:
            default = "required" if param.required else ("—" if param.default is None else f"`{param.default!r}`")
            sent_as = param.appends_to or (param.name if param.argument else None)
            name = f"`{param.keyword}`" + (f" (sent in `{sent_as}`)" if sent_as else "")
            lines.append(f"| {name} | {default} | {_cell(param.doc)} |")
        lines.append("")
    return "\n".join(lines)


def alias_table() -> str:
    lines = ["| operation | older name | now |", "| --- | --- | --- |"]
    for endpoint in api.ENDPOINTS.values():
        for alias in endpoint.aliases:
            now = f"`{alias.new}`" + (f" key `{alias.key}`" if alias.key else "")
            lines.append(f"| `{endpoint.name}` | `{alias.old}` | {now} |")
        for name in endpoint.ignored:
            lines.append(f"| `{endpoint.name}` | `{name}` | no effect: warned about, not sent |")
    return "\n".join(lines)


def value_lists() -> str:
    lines = ["| list | values |", "| --- | --- |"]
    for name, values in api.KNOWN_VALUES.items():
        lines.append(f"| `{name}` | {', '.join(f'`{value}`' for value in values)} |")
    return "\n".join(lines)


def pricing_table() -> str:
    from airflow_provider_vimmerse.credits import PRICING_READ_ON, RATES

    lines = [f"Read {PRICING_READ_ON}.", "", "| video tool | credits per second of a scene |", "| --- | --- |"]
    lines += [f"| `{tool}` | {rate} |" for tool, rate in RATES.items()]
    return "\n".join(lines)


def write_parameter_pages(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for name, text in (
        ("parameters.md", parameter_tables()),
        ("aliases.md", alias_table()),
        ("values.md", value_lists()),
        ("pricing.md", pricing_table()),
    ):
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text + "\n")
