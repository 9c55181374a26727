"""Library messages rephrased for the command line: one message source, two phrasings.

The loaders and metrics word their advice in Python (``pass decimal=','``,
``map yours with columns={...}``). The command line shows the same message
with each Python argument replaced by the flag that sets it (``pass --decimal
,``, ``map yours with --column FIELD=COLUMN``). The table below is the only
place that knows which flag sets which argument's value; the library's
messages stay as they are.
"""

from __future__ import annotations

import re
import shlex

__all__ = ["FLAGS", "for_cli", "shell_value"]

#: Python argument -> the flag that sets it (with its metavar when the value is a mapping).
FLAGS: dict[str, str] = {
    "allow_negative": "--allow-negative",
    "as_of": "--as-of",
    "by": "--by",
    "case_insensitive": "--case-insensitive",
    "columns": "--column FIELD=COLUMN",
    "conflicts": "--conflicts",
    "currency": "--currency",
    "decimal": "--decimal",
    "deleted": "--deleted",
    "delimiter": "--delimiter",
    "early": "--early",
    "encoding": "--encoding",
    "errors": "--collect",
    "extra_columns": "--attribute COLUMN",
    "other_pipelines": "--other-pipelines",
    "pipeline_id": "--pipeline-id",
    "pipeline_label": "--pipeline-label",
    "shape": "--shape",
    "stage_dates": "--stage-date STAGE=COLUMN",
    "stage_map": "--stage LABEL=STAGE",
    "timestamp_format": "--timestamp-format",
    "timezone": "--timezone",
    "undated": "--undated",
}

#: Whole phrases whose command-line wording is not a word-for-word swap.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    # The library already names the flag for the encoding; keep one suggestion.
    (re.compile(r" \(on the command line, [^)]*\)"), ""),
    (re.compile(r"\bor delimiter=None to detect it"), "or leave out --delimiter to detect it"),
    (
        re.compile(r"pass one of them, or a function of the deal\."),
        "pass one of them to --by, or load a column as a field with --attribute COLUMN.",
    ),
    (re.compile(r"\berrors='collect'"), "--collect"),
)

_NAMES = "|".join(sorted(FLAGS, key=len, reverse=True))
#: ``name=value`` (a quoted string, a ``{...}`` mapping, True/False/None or a bare word),
#: ``name[key]`` (one entry of a mapping), or the bare name of an argument with an underscore.
_ARGUMENT = re.compile(
    rf"\b(?P<name>{_NAMES})"
    r"(?:=(?P<value>'(?:[^'\\]|\\.)*'|\"[^\"]*\"|\{[^{}]*\}|[\w.:+-]+)"
    r"|\[(?P<key>'[^']*'|\"[^\"]*\")\]"
    r"|(?![\w=\[]))"
)

_TAB_NAMES = {"\t": "tab"}


def shell_value(text: str) -> str:
    """*text* as one shell word: quoted when needed, a tab spelt ``tab``.

    Examples:
        >>> shell_value(";"), shell_value(","), shell_value("\\t"), shell_value("Closed won")
        ("';'", ',', 'tab', "'Closed won'")
    """
    return _TAB_NAMES.get(text) or shlex.quote(text)


def _unquote(value: str) -> str:
    if value[:1] in "'\"" and value[-1:] == value[:1]:
        inner = value[1:-1]
        # The library writes values with repr(): undo its escapes of a tab or quote.
        return inner.replace("\\t", "\t").replace("\\'", "'").replace("\\\\", "\\")
    return value


def _flag(match: re.Match[str]) -> str:
    name, value, key = match["name"], match["value"], match["key"]
    flag = FLAGS[name]
    option = flag.split(" ", 1)[0]
    if key is not None:
        return f"{option} {shell_value(_unquote(key))}=…"
    if value is None:
        # A bare argument name: "pass timestamp_format, e.g." -> "pass --timestamp-format, e.g."
        if "_" not in name:
            return match[0]  # an English word too ("a value needs a currency"): leave it
        return option
    if value.startswith("{"):
        return flag
    if value == "True":
        return option
    if value in ("False", "None"):
        return f"no {option}"
    return f"{option} {shell_value(_unquote(value))}"


def for_cli(message: str) -> str:
    """*message* with every Python argument it suggests replaced by its command-line flag.

    Examples:
        >>> for_cli("not a number with '.' as the decimal mark; if ',' is its decimal mark pass decimal=','")
        "not a number with '.' as the decimal mark; if ',' is its decimal mark pass --decimal ,"
        >>> for_cli("missing column(s) 'deal_id' (map yours with columns={...})")
        "missing column(s) 'deal_id' (map yours with --column FIELD=COLUMN)"
    """
    for pattern, replacement in _PHRASES:
        message = pattern.sub(replacement, message)
    return _ARGUMENT.sub(_flag, message)
