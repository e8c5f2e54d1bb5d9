"""The environment's fenced block in a crontab, parsed and rendered as plain lines, byte-safe.

A crontab holds any number of lines Salam does not own. Salam owns exactly one block per
environment::

    # BEGIN salam env=dev (managed by salam; edits inside are overwritten)
    # salam job=orders digest=0123456789ab revision=e50c42a4b8b3
    30 * * * * cd /srv/salam && flock -n ... >> /var/log/orders.log 2>&1
    # END salam env=dev

Text is handled as ``str`` decoded with ``surrogateescape`` and split on ``\\n`` only, so every
byte outside the block (CRLF, tabs, a missing final newline, invalid UTF-8) is written back
exactly. Inside the block every line is Salam's: an entry is a marker comment, optional
``CRON_TZ=`` lines, then the cron line (in a cron.d-format file with the user field after the
five schedule fields: ``parse(..., user_field=True)``). Anything else found there (a marker
with no entry, a line without a marker, a comment) becomes a *stray* item, reported like a
resource so that it shows as drift and is removed by the next write that prunes it; nothing
here ever raises on content inside the block. Lines outside every block are
listed by :func:`outside`, and one adopted is moved into the block (:func:`without`). Only a
block whose fence itself is broken
(``BEGIN`` without ``END``, two blocks of one environment) raises :class:`BlockError`: then the
extent of Salam's lines is unknown and nothing may be written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.cron.entry import CrontabEntry

ENCODING = "utf-8"
ERRORS = "surrogateescape"
BEGIN = "# BEGIN salam env={env} (managed by salam; edits inside are overwritten)"
END = "# END salam env={env}"
NO_ENTRY = "marker line with no cron entry after it"
NOT_AN_ENTRY = "entry line is not a valid cron line"

_BEGIN_RE = re.compile(r"^# BEGIN salam env=(\S+)(?:\s.*)?$")
_END_RE = re.compile(r"^# END salam env=(\S+)\s*$")
_MARKER_RE = re.compile(r"^# salam job=(\S+)((?:\s+\S+=\S*)*)\s*$")
_TZ_RE = re.compile(r"^\s*CRON_TZ\s*=\s*(\S*)\s*$")
_FIELDS_RE = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S.*?)\s*$")
_SPECIAL_RE = re.compile(r"^\s*(@[a-z]+)\s+(\S.*?)\s*$")
_USER_RE = re.compile(r"^(\S+)\s+(\S.*)$")  # a cron.d line's user field, then the command
_FIELD_RE = re.compile(r"^[0-9A-Za-z*/,-]+$")


class BlockError(ValueError):
    """The block's fence is broken, so Salam cannot tell which lines are its own."""


@dataclass(frozen=True)
class Item:
    """One resource inside the block: a job's entry, or a stray line (``job`` empty)."""

    name: str
    job: str
    spec: Mapping[str, Any]
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def stray(self) -> bool:
        return not self.job


@dataclass(frozen=True)
class Document:
    """A whole crontab split around this environment's block.

    ``lines[start:stop]`` is the block, fences included; ``start == stop`` when there is none
    (then ``start`` is where a new block goes).
    """

    lines: tuple[str, ...]
    start: int
    stop: int
    items: tuple[Item, ...]
    inherited_tz: str | None

    @property
    def has_block(self) -> bool:
        return self.stop > self.start


def decode(data: bytes) -> str:
    return data.decode(ENCODING, ERRORS)


def encode(text: str) -> bytes:
    return text.encode(ENCODING, ERRORS)


def split_lines(text: str) -> list[str]:
    """``text`` cut after every ``\\n`` (each line keeps its terminator; the last may lack one)."""
    lines = text.split("\n")
    cut = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        cut.append(lines[-1])
    return cut


def bare(line: str) -> str:
    """A line without its terminator (``\\n`` or ``\\r\\n``)."""
    return line.rstrip("\n").removesuffix("\r")


def parse(text: str, env: str, host_zone: str, user_field: bool = False) -> Document:
    """Split ``text`` around the block of ``env`` and parse the block's items (``user_field``:
    the lines are in cron.d format)."""
    lines = split_lines(text)
    start, stop = _locate(lines, env)
    inherited = _last_tz(lines[:start], host_zone)
    inside = [bare(line) for line in lines[start + 1 : stop - 1]] if stop > start else []
    items = parse_items(inside, host_zone, inherited, user_field)
    return Document(tuple(lines), start, stop, tuple(items), inherited)


def _locate(lines: Sequence[str], env: str) -> tuple[int, int]:
    """``(start, stop)`` of the block (BEGIN line to END line inclusive), or an empty range."""
    begins = [i for i, line in enumerate(lines) if _is_fence(_BEGIN_RE, line, env)]
    ends = [i for i, line in enumerate(lines) if _is_fence(_END_RE, line, env)]
    where = f"the crontab block of environment '{env}'"
    if len(begins) > 1 or len(ends) > 1:
        found = ", ".join(str(i + 1) for i in sorted(begins + ends))
        raise BlockError(
            f"{where} is fenced more than once (lines {found}); merge or remove "
            "the extra BEGIN/END lines by hand"
        )
    if not begins and not ends:
        end_of_text = _insert_at(lines)
        return end_of_text, end_of_text
    if not begins or not ends or ends[0] < begins[0]:
        line = (begins or ends)[0] + 1
        raise BlockError(
            f"{where} has a BEGIN line without its END line, or the reverse "
            f"(line {line}); restore the missing fence line by hand"
        )
    return begins[0], ends[0] + 1


def _is_fence(pattern: re.Pattern[str], line: str, env: str) -> bool:
    match = pattern.match(bare(line))
    return match is not None and match.group(1) == env


def _insert_at(lines: Sequence[str]) -> int:
    """Where a new block goes: at the end, or before an unterminated last line.

    Inserting before an unterminated last line keeps every byte outside the block as it was
    (cron ignores such a line, and keeps ignoring it).
    """
    if lines and not lines[-1].endswith("\n"):
        return len(lines) - 1
    return len(lines)


def _last_tz(lines: Iterable[str], host_zone: str) -> str | None:
    zone = None
    for line in lines:
        match = _TZ_RE.match(bare(line))
        if match:
            zone = match.group(1) or None
    return None if zone == host_zone else zone


def parse_items(
    inside: Sequence[str], host_zone: str, inherited: str | None, user_field: bool = False
) -> list[Item]:
    """The items of the block's inner lines (terminators removed)."""
    items: list[Item] = []
    seen: set[str] = set()
    zone = inherited
    index = 0
    while index < len(inside):
        line = inside[index]
        index += 1
        tz = _TZ_RE.match(line)
        if tz:
            zone = None if tz.group(1) in ("", host_zone) else tz.group(1)
            continue
        if not line.strip():
            continue
        marker = _MARKER_RE.match(line)
        if not marker or marker.group(1) in seen:
            items.append(_stray([line], items))
            continue
        job, meta = marker.group(1), _meta(marker.group(2))
        while index < len(inside) and _TZ_RE.match(inside[index]):
            value = _TZ_RE.match(inside[index])
            zone = None if value is None or value.group(1) in ("", host_zone) else value.group(1)
            index += 1
        seen.add(job)
        following = inside[index] if index < len(inside) else ""
        if not following.strip() or following.lstrip().startswith("#"):
            items.append(
                Item(job, job, {"schedule": None, "command": None, "problem": NO_ENTRY}, meta)
            )
            continue
        index += 1
        items.append(Item(job, job, entry_spec(following, zone, user_field), meta))
    return items


def _meta(text: str) -> dict[str, str]:
    pairs = (token.split("=", 1) for token in text.split())
    return {key: value for key, value in pairs if key in ("digest", "revision")}


def _stray(lines: Sequence[str], items: Sequence[Item]) -> Item:
    text = "\n".join(lines)
    base = "stray-" + hashlib.sha256(text.encode(ENCODING, ERRORS)).hexdigest()[:8]
    taken = {item.name for item in items}
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}-{count}"
    return Item(name, "", {"line": text, "problem": "line inside the block not written by salam"})


def entry_spec(line: str, zone: str | None = None, user_field: bool = False) -> dict[str, Any]:
    """The canonical spec of one cron line: 5 schedule fields (or an @keyword), in cron.d
    format the user, and the command."""
    spec: dict[str, Any]
    fields = _FIELDS_RE.match(line)
    special = _SPECIAL_RE.match(line)
    if special:
        spec = {"schedule": special.group(1), "command": special.group(2)}
    elif fields and all(_FIELD_RE.match(fields.group(i)) for i in range(1, 6)):
        spec = {
            "schedule": " ".join(fields.group(i) for i in range(1, 6)),
            "command": fields.group(6),
        }
    else:
        spec = {"schedule": None, "command": line.strip(), "problem": NOT_AN_ENTRY}
    if user_field and spec["schedule"] is not None:
        user = _USER_RE.match(spec["command"])
        if user is None:
            spec = {"schedule": None, "command": line.strip(), "problem": NOT_AN_ENTRY}
        else:
            spec["user"], spec["command"] = user.group(1), user.group(2)
    if zone:
        spec["cron_tz"] = zone
    return spec


def render_items(
    env: str, items: Iterable[Item], host_zone: str, inherited: str | None
) -> list[str]:
    """The block's lines (with ``\\n``) for ``items``: entries sorted by job, strays last.

    ``CRON_TZ`` is a setting that holds for every later line, so it is written only where it
    changes, and set back to the inherited value before ``END`` so lines after the block keep
    their meaning. Empty list: no items, no block at all.
    """
    ordered = sorted((i for i in items if not i.stray), key=lambda i: i.job)
    ordered += [i for i in items if i.stray]
    if not ordered:
        return []
    out = [BEGIN.format(env=env)]
    zone = inherited
    for item in ordered:
        if item.stray:
            out.append(str(item.spec.get("line", "")))
            continue
        out.append(marker(item.job, item.meta))
        want = item.spec.get("cron_tz") or None
        if want != zone and item.spec.get("schedule") is not None:
            out.append(f"CRON_TZ={want or host_zone}")
            zone = want
        out.extend(_entry_line(item.spec))
    if zone != inherited:
        out.append(f"CRON_TZ={inherited or host_zone}")
    out.append(END.format(env=env))
    return [line + "\n" for line in out]


def _entry_line(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("schedule") is None:
        return [str(spec["command"])] if spec.get("command") else []
    return [CrontabEntry.from_spec(spec).line()]


def marker(job: str, meta: Mapping[str, str]) -> str:
    digest = meta.get("digest") or "-"
    revision = meta.get("revision") or "-"
    return f"# salam job={job} digest={digest} revision={revision}"


def outside(lines: Sequence[str]) -> list[tuple[int, str]]:
    """The lines (numbered from 1, terminators removed) outside every environment's Salam
    block: hand-written lines the crontab backend may adopt or ``reconcile import`` read."""
    found: list[tuple[int, str]] = []
    inside: str | None = None
    for number, line in enumerate(map(bare, lines), 1):
        begin, end = _BEGIN_RE.match(line), _END_RE.match(line)
        if inside is None and begin:
            inside = begin.group(1)
        elif inside is not None and end and end.group(1) == inside:
            inside = None
        elif inside is None:
            found.append((number, line))
    return found


def without(document: Document, taken: Iterable[str]) -> Document:
    """``document`` with one line outside the block removed per text in ``taken`` (an adopted
    line moves into the block); the block's place is kept."""
    lines = list(document.lines)
    start, stop = document.start, document.stop
    for text in taken:
        index = next(
            i for i, line in enumerate(lines) if bare(line) == text and not start <= i < stop
        )
        del lines[index]
        if index < start:
            start, stop = start - 1, stop - 1
    return Document(tuple(lines), start, stop, document.items, document.inherited_tz)


def given_back(document: Document, returned: Iterable[str]) -> Document:
    """``document`` with each text in ``returned`` written back outside the block, right after
    it (an adopted line a restore releases: as it was, unmarked)."""
    texts = [f"{text}\n" for text in returned]
    if not texts:
        return document
    lines = list(document.lines)
    lines[document.stop : document.stop] = texts
    return dataclasses.replace(document, lines=tuple(lines))


def replace_block(document: Document, block_lines: Sequence[str]) -> str:
    """The whole crontab with the block replaced by ``block_lines`` (removed when empty)."""
    lines = document.lines
    return "".join([*lines[: document.start], *block_lines, *lines[document.stop :]])
