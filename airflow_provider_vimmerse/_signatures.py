"""
Typed signatures of the hook's endpoint methods and the story operators, built from the endpoint
specs: at run time (``inspect.signature``, ``help()``, Airflow's required-argument check) and as
the committed stubs (``hooks/vimmerse.pyi``, ``operators/story.pyi``) that mypy and editors read.

Why generated stubs rather than hand-written signatures: the specs stay the only place where an
argument's name, type, check, default, alias and doc line live, and the same facts are needed in
three shapes. ``make stubs`` (``python -m airflow_provider_vimmerse._signatures``) writes the
stubs; a unit test fails when a committed stub differs from what the specs give.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from airflow_provider_vimmerse._parameters import Endpoint

_KEYWORD, _POSITIONAL = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
_EXTRA_PARAMS = "Mapping[str, Any] | str"
#: A templated operator argument may also be Jinja text or another task's output.
_TEMPLATED = "str | XComArg"


def _optional(annotation: str) -> str:
    return f"{annotation} | None"


def _union_members(annotation: str) -> list[str]:
    """The members of a ``A | B[C | D]`` annotation at its top level."""
    members, depth, current = [], 0, ""
    for char in annotation:
        depth += (char == "[") - (char == "]")
        if char == "|" and depth == 0:
            members.append(current.strip())
            current = ""
        else:
            current += char
    return [*members, current.strip()]


def _templated(annotation: str) -> str:
    members = _union_members(annotation)
    return " | ".join(members + [extra for extra in _union_members(_TEMPLATED) if extra not in members])


def hook_signature(endpoint: Endpoint) -> inspect.Signature:
    """A hook method's signature: the story, required arguments and ``instructions`` by position, the rest by name."""
    parameters = [inspect.Parameter("self", _POSITIONAL)]
    if endpoint.on_story:
        parameters.append(inspect.Parameter("story_id", _POSITIONAL, annotation="str"))
    for param in endpoint.params:
        if param.required:
            parameters.append(inspect.Parameter(param.keyword, _POSITIONAL, annotation=param.annotation))
    for param in endpoint.params:
        if param.appends_to:
            parameters.append(
                inspect.Parameter(param.keyword, _POSITIONAL, default=None, annotation=_optional(param.annotation))
            )
    for param in endpoint.params:
        if not (param.required or param.appends_to):
            parameters.append(
                inspect.Parameter(param.keyword, _KEYWORD, default=None, annotation=_optional(param.annotation))
            )
    parameters.append(inspect.Parameter("extra_params", _KEYWORD, default=None, annotation=_optional(_EXTRA_PARAMS)))
    return inspect.Signature(parameters, return_annotation="VimmerseStory")


def documented(endpoint: Endpoint) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a hook method its endpoint's docstring and typed signature (as in the stub ``vimmerse.pyi``)."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__doc__ = endpoint.docstring()
        method.__signature__ = hook_signature(endpoint)  # type: ignore[attr-defined]
        return method

    return decorate


def operator_signature(endpoint: Endpoint, common: inspect.Signature) -> inspect.Signature:
    """
    An operator's constructor: its endpoint's arguments (templated), then ``common`` (the base
    operator's own arguments, without ``self`` and ``**kwargs``), then ``**kwargs`` for BaseOperator.
    """
    parameters = [inspect.Parameter("self", _POSITIONAL)]
    if endpoint.on_story:
        parameters.append(inspect.Parameter("story_id", _KEYWORD, annotation=_templated("str")))
    for param in endpoint.params:
        annotation = _templated(param.annotation)
        if param.required:
            parameters.append(inspect.Parameter(param.keyword, _KEYWORD, annotation=annotation))
        else:
            parameters.append(
                inspect.Parameter(param.keyword, _KEYWORD, default=None, annotation=_optional(annotation))
            )
    own = [p for name, p in common.parameters.items() if name != "self" and p.kind is not p.VAR_KEYWORD]
    parameters += [p.replace(kind=_KEYWORD) for p in own]
    parameters.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation="Any"))
    return inspect.Signature(parameters, return_annotation="None")


# --------------------------------------------------------------------------- stubs


def _render(
    name: str, signature: inspect.Signature, *, kwargs: str | None = None, indent: str = "    ", doc: str | None = None
) -> str:
    """``def name(...) -> ...: ...`` (or ``doc`` as its body), every default shown as ``...``, as stubs write them."""
    parts, star = [], False
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            parts.append(f"**{param.name}: {kwargs or param.annotation}")
            continue
        if param.kind is param.VAR_POSITIONAL:
            parts.append(f"*{param.name}: {param.annotation}")
            star = True
            continue
        if param.kind is param.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = param.name
        if param.annotation is not param.empty:
            text += f": {param.annotation}"
        if param.default is not param.empty:
            text += " = ..."
        parts.append(text)
    returns = signature.return_annotation
    returns = "None" if returns is signature.empty else returns
    lines = [f"{indent}def {name}(", *(f"{indent}    {part}," for part in parts)]
    if doc is None:
        return "\n".join([*lines, f"{indent}) -> {returns}: ..."])
    return "\n".join([*lines, f"{indent}) -> {returns}:", *_docstring(doc, indent + "    ")])


def _public_members(cls: type, skip: Iterable[str] = ()) -> list[str]:
    """Stub lines for the public methods and properties ``cls`` defines itself (not its bases)."""
    from functools import cached_property

    lines = []
    for name, member in cls.__dict__.items():
        if (name.startswith("_") and name not in ("__enter__", "__exit__", "__init__")) or name in skip:
            continue
        if isinstance(member, (property, cached_property)):
            function = member.fget if isinstance(member, property) else member.func
            if function is not None:  # a property always has a getter here; mypy cannot know
                lines += ["    @property", _render(name, inspect.signature(function))]
        elif isinstance(member, staticmethod):
            lines += ["    @staticmethod", _render(name, inspect.signature(member.__func__))]
        elif inspect.isfunction(member):
            lines.append(_render(name, inspect.signature(member)))
    return lines


def _docstring(text: str | None, indent: str = "    ") -> list[str]:
    body = inspect.cleandoc(text or "").replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return [f'{indent}"""', *(f"{indent}{line}".rstrip() for line in body.splitlines()), f'{indent}"""']


def _base_operator_arguments() -> list[str]:
    """BaseOperator's keyword arguments as a TypedDict, so a misspelled name is an error for mypy."""
    from airflow.sdk import BaseOperator

    simple = {"str", "int", "float", "bool", "None", "dict", "list", "Any", "timedelta", "datetime", "Sequence"}
    lines = ["class _BaseOperatorArguments(TypedDict, total=False):"]
    for name, param in inspect.signature(BaseOperator.__init__).parameters.items():
        if name == "self" or param.kind is param.VAR_KEYWORD:
            continue
        annotation = str(param.annotation).replace("collections.abc.", "")
        words = set(annotation.replace("[", " ").replace("]", " ").replace("|", " ").replace(",", " ").split())
        annotation = annotation if words <= simple else "Any"
        lines.append(f"    {name}: {'Required[str]' if name == 'task_id' else annotation}")
    return lines


_HEADER = """\
# Generated by `make stubs` (python -m airflow_provider_vimmerse._signatures) from the endpoint
# specs in _endpoints.py; do not edit. Airflow {airflow}.
"""


def render_hook_stub() -> str:
    """``hooks/vimmerse.pyi``: the hook with every endpoint method typed from its spec."""
    from airflow import __version__ as airflow_version

    from airflow_provider_vimmerse._endpoints import ENDPOINTS
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    lines = [
        _HEADER.format(airflow=airflow_version),
        "import os",
        "from collections.abc import Mapping, Sequence",
        "from datetime import date",
        "from typing import Any, Literal",
        "",
        "import requests",
        "from airflow.sdk import BaseHook",
        "",
        "from airflow_provider_vimmerse._download import DownloadResult",
        "from airflow_provider_vimmerse.hooks._transport import ConnectionSettings",
        "from airflow_provider_vimmerse.models import VimmerseStory",
        "",
        '__all__ = ["VimmerseHook"]',
        "",
        "class VimmerseHook(BaseHook):",
        *_docstring(VimmerseHook.__doc__),
        "    conn_name_attr: str",
        "    default_conn_name: str",
        "    conn_type: str",
        "    hook_name: str",
        *_public_members(VimmerseHook, skip=ENDPOINTS),
    ]
    for name, endpoint in ENDPOINTS.items():
        lines.append(_render(name, hook_signature(endpoint), doc=endpoint.docstring()))
    return "\n".join(lines) + "\n"


def render_operator_stub() -> str:
    """``operators/story.pyi``: every story operator's constructor typed from its endpoint's spec."""
    from airflow import __version__ as airflow_version

    from airflow_provider_vimmerse.operators import story

    base = story.VimmerseStoryOperator
    common = inspect.signature(base.__init__)
    lines = [
        _HEADER.format(airflow=airflow_version),
        "import os",
        "from collections.abc import Mapping, Sequence",
        "from datetime import datetime, timedelta",
        "from typing import Any, ClassVar, Literal, TypedDict",
        "",
        "from airflow.sdk import BaseOperator, Context, XComArg",
        "from typing_extensions import Required, Unpack",
        "",
        "from airflow_provider_vimmerse._endpoints import Endpoint",
        "from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook",
        "from airflow_provider_vimmerse.models import VimmerseStory",
        "",
        f"__all__ = {sorted(story.__all__)!r}".replace("'", '"'),
        "",
        *_base_operator_arguments(),
        "",
        "class VimmerseStoryOperator(BaseOperator):",
        *_docstring(base.__doc__),
        "    endpoint: ClassVar[Endpoint]",
        _render("__init__", common, kwargs="Unpack[_BaseOperatorArguments]"),
        *_public_members(base, skip=("__init__",)),
    ]
    for name in sorted(story.__all__):
        cls = getattr(story, name)
        if cls is base:
            continue
        lines += [
            "",
            f"class {name}(VimmerseStoryOperator):",
            *_docstring(cls.__doc__),
            _render("__init__", operator_signature(cls.endpoint, common), kwargs="Unpack[_BaseOperatorArguments]"),
            *_public_members(cls, skip=("__init__",)),
        ]
    return "\n".join(lines) + "\n"


#: Each committed stub, by its path in the package, and what writes it.
STUBS: dict[str, Callable[[], str]] = {
    "hooks/vimmerse.pyi": render_hook_stub,
    "operators/story.pyi": render_operator_stub,
}


def main(argv: list[str] | None = None) -> int:
    """Write the stubs next to their modules (``--check``: only say whether they are current)."""
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    package = Path(__file__).resolve().parent
    stale = []
    for relative, render in STUBS.items():
        path, text = package / relative, render()
        if path.exists() and path.read_text() == text:
            continue
        stale.append(relative)
        if not check:
            path.write_text(text)
    for relative in stale:
        print(f"{'stale' if check else 'wrote'}: {relative}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
