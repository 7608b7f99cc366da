"""
The machinery behind the endpoint specs: a parameter (:class:`Param`), an older name for one
(:class:`Alias`), and an operation (:class:`Endpoint`), which checks a caller's arguments and
builds the request's fields before anything is sent. The specs themselves, with every default and
value list, are in :mod:`airflow_provider_vimmerse._endpoints`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError


class VimmerseDeprecationWarning(DeprecationWarning):
    """An older parameter name (from the first Story API reference) was used."""


@dataclass(frozen=True)
class Param:
    """
    One request parameter.

    :param name: the wire name (the service's own vocabulary).
    :param check: ``check(name, value)`` validates and returns the value to send.
    :param doc: what it means and what is allowed, for the docs.
    :param default: the service's default as last seen in its reference, for the docs only: an
        argument the caller leaves unset is never sent, so the service's current default applies.
    :param required: the caller must give it.
    :param argument: the keyword callers use, when it differs from the wire name (``url`` for ``idea``).
    :param appends_to: the value is sent inside another parameter, after it and a space (the
        instructions that follow the page's URL in url-2-video's ``idea``), not as a field of its own.
    :param form_json: in a Legacy form, the value travels as one JSON text rather than repeated keys.
    :param upload: files read and uploaded as they are (Legacy multipart), not a JSON value.
    :param annotation: the Python type callers pass, as written in a signature (``Literal[...]`` where
        the service's list is strict); the typed signatures and stubs are built from it.
    """

    name: str
    check: Callable[[str, Any], Any]
    doc: str
    default: Any = None
    required: bool = False
    argument: str | None = None
    appends_to: str | None = None
    form_json: bool = False
    upload: bool = False
    annotation: str = "str"

    @property
    def keyword(self) -> str:
        """The name callers pass it by."""
        return self.argument or self.name


@dataclass(frozen=True)
class Alias:
    """
    An older parameter name that still works, with a deprecation warning.

    :param old: the name DAGs written against the older reference use.
    :param new: the parameter it now sets.
    :param key: set this key inside ``new`` (an object such as ``audio_option``) instead of ``new`` itself.
    """

    old: str
    new: str
    key: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """
    One Story API operation.

    :param name: the hook method (and the docs' name for it).
    :param method: HTTP method.
    :param path: URL path as Legacy names it; v2 puts ``/v2`` before it. ``{story_id}`` is filled
        from the first argument.
    :param body: how parameters travel in Legacy: ``json``, ``form`` (urlencoded) or ``multipart``.
        v2 takes JSON for every request.
    :param summary: one line for docstrings.
    :param params: the parameters, in the document's order.
    :param charges: the request creates or charges (never repeated unless it provably did not arrive).
    :param aliases: older names that still work.
    :param ignored: older names the service no longer reads: warned about, not sent.
    :param produces_video: the step is done only once the story has a ``video_url``.
    """

    name: str
    method: str
    path: str
    body: str
    summary: str
    params: tuple[Param, ...] = ()
    charges: bool = True
    aliases: tuple[Alias, ...] = ()
    ignored: tuple[str, ...] = ()
    produces_video: bool = False
    _by_name: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {param.keyword: param for param in self.params})

    @property
    def on_story(self) -> bool:
        """The operation acts on an existing story (its path has ``{story_id}``)."""
        return "{story_id}" in self.path

    @property
    def argument_names(self) -> tuple[str, ...]:
        """Every keyword the hook method and operator accept: parameters, then aliases and ignored names."""
        return (*self._by_name, *(alias.old for alias in self.aliases), *self.ignored)

    @property
    def takes_webhook(self) -> bool:
        return "webhook_url" in self._by_name

    def payload(self, given: Mapping[str, Any], extra_params: Any = None) -> dict[str, Any]:
        """
        Check the caller's arguments and return the request's fields (Python values): exactly what
        the caller set, nothing filled in, so the service's current defaults apply.

        Older names are mapped to the current ones with a deprecation warning; names the service
        no longer reads are dropped with a warning; ``None`` means "not given".

        :raises VimmerseInvalidParameterError: an unknown name, a bad value, a missing required field,
            or an older name given together with its current one.
        """
        values = {name: value for name, value in given.items() if value is not None}
        for name in [n for n in values if n in self.ignored]:
            warnings.warn(
                f"{self.name}: {name!r} has no effect on {self.method} {self.path} (the service no longer reads it); "
                "it was not sent.",
                VimmerseDeprecationWarning,
                stacklevel=3,
            )
            del values[name]
        for alias in self.aliases:
            if alias.old in values:
                self._apply_alias(alias, values)
        fields: dict[str, Any] = {}
        for name, value in values.items():
            param = self._by_name.get(name)
            if param is None:
                raise VimmerseInvalidParameterError(
                    name, value, f"a parameter of {self.name}: {', '.join(self._by_name)}"
                )
            checked = param.check(name, value)
            fields[param.keyword] = checked if param.upload else v.wire_safe(name, checked)
        for param in self.params:
            if param.required and param.keyword not in fields:
                raise VimmerseInvalidParameterError(param.keyword, None, f"a value (required by {self.name})")
        wire: dict[str, Any] = {}
        for param in self.params:
            if param.keyword not in fields:
                continue
            if param.appends_to is None:
                wire[param.name] = fields[param.keyword]
            elif str(fields[param.keyword]).strip():
                wire[param.appends_to] = f"{wire[param.appends_to]} {str(fields[param.keyword]).strip()}"
        return self._with_extra(wire, extra_params)

    def check_literals(self, arguments: Mapping[str, Any]) -> None:
        """
        Check the shape of every argument already known when the DAG is parsed (not templated), so a
        bad literal is a DAG import error; templated ones are checked after rendering. Advisory
        name lists warn when the request is built, not here.

        :raises VimmerseInvalidParameterError: naming the argument and what is allowed.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, value in arguments.items():
                param = self._by_name.get(name)
                if param is not None and value is not None and not v.is_templated(value):
                    param.check(name, value)

    def _with_extra(self, fields: dict[str, Any], extra_params: Any) -> dict[str, Any]:
        """``fields`` and the caller's ``extra_params`` (a mapping, or its JSON text after templating)."""
        if extra_params is None:
            return fields
        extra = v.json_object("extra_params", extra_params)
        wire_names = {param.name for param in self.params}
        for key, value in extra.items():
            if key in wire_names or key in self.argument_names:
                raise VimmerseInvalidParameterError(
                    "extra_params", key, "names not already covered by a documented parameter"
                )
            fields[key] = value
        v.json_object("extra_params", fields)
        return fields

    def _apply_alias(self, alias: Alias, values: dict[str, Any]) -> None:
        old_value = values.pop(alias.old)
        target = f"{alias.new}.{alias.key}" if alias.key else alias.new
        current = values.get(alias.new)
        if alias.key is None:
            if current is not None:
                raise VimmerseInvalidParameterError(
                    alias.old, old_value, f"either {alias.old!r} (deprecated) or {alias.new!r}, not both"
                )
            merged: Any = old_value
        else:
            merged = v.json_object(alias.new, current) if current is not None else {}
            if alias.key in merged:
                raise VimmerseInvalidParameterError(
                    alias.old, old_value, f"either {alias.old!r} (deprecated) or {target!r}, not both"
                )
            merged[alias.key] = old_value
        warnings.warn(
            f"{self.name}: {alias.old!r} is deprecated; use {target!r} (the value was sent as {target!r}).",
            VimmerseDeprecationWarning,
            stacklevel=4,
        )
        values[alias.new] = merged

    def request_body(self, fields: dict[str, Any], api_version: str) -> dict[str, Any]:
        """The request body: JSON for every v2 request; Legacy's JSON, form or multipart per self."""
        if api_version != "legacy":
            for name in set(self.uploads) & set(fields):
                raise VimmerseInvalidParameterError(
                    name,
                    fields[name],
                    "no local files in API v2 (it takes JSON only): pass image_urls, or set the connection's "
                    "api_version to 'legacy' to upload files",
                )
            return {"json": fields}
        if self.body == "json":
            return {"json": fields}
        if self.body == "multipart":
            from airflow_provider_vimmerse._uploads import read_image_files

            images = fields.pop("image_files", None)
            files = [("image_files", upload) for upload in (read_image_files(images) if images else [])]
            # Always multipart, as the service documents, even without files.
            return {"files": [(key, (None, value)) for key, value in self.form_items(fields)] + files}
        return {"data": self.form_items(fields)}

    @property
    def uploads(self) -> tuple[str, ...]:
        """Wire names of the parameters that upload files."""
        return tuple(param.name for param in self.params if param.upload)

    def form_items(self, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The fields as Legacy form items (see :func:`encode_form`)."""
        as_json = {param.name for param in self.params if param.form_json}
        return encode_form({k: json.dumps(v) if k in as_json else v for k, v in fields.items()})

    def docstring(self, *, leading: str = "") -> str:
        """reST for the hook method: summary, every parameter with its default, what is returned."""
        lines = [f"{self.summary} (``{self.method} {self.path}``).", ""]
        if leading:
            lines += [leading, ""]
        lines += [
            self.parameter_docs(),
            "",
            ":return: the story as the service answered.",
            ":raises VimmerseInvalidParameterError: before any request is sent.",
        ]
        return "\n".join(lines)

    def parameter_docs(self) -> str:
        """reST ``:param:`` lines for every argument (hook method and operator alike), and the older names."""
        lines = [":param story_id: the story."] if self.on_story else []
        for param in self.params:
            default = (
                f" Not sent when unset; the service's default (last seen) is ``{param.default!r}``."
                if param.default is not None
                else ""
            )
            required = " Required." if param.required else ""
            lines.append(f":param {param.keyword}: {param.doc}{required}{default}")
        lines.append(":param extra_params: parameters this provider does not know yet, sent as given.")
        if self.aliases or self.ignored:
            older = [f"``{a.old}`` (now ``{a.new}{'.' + a.key if a.key else ''}``)" for a in self.aliases]
            older += [f"``{name}`` (no effect)" for name in self.ignored]
            lines.append("")
            lines.append("Older names still accepted, with a deprecation warning: " + ", ".join(older) + ".")
        return "\n".join(lines)


def encode_form(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Form items: lists as repeated keys, objects as JSON text, booleans as ``true``/``false``."""
    items: list[tuple[str, str]] = []
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            items.extend((key, _form_value(item)) for item in value)
        else:
            items.append((key, _form_value(value)))
    return items


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, allow_nan=False)
    return str(value)
