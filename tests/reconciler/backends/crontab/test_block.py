"""The fenced block as plain lines: locate, parse, render, splice — byte for byte."""

from __future__ import annotations

import pytest

from reconciler.backends.crontab import block
from reconciler.backends.crontab.block import BlockError, Item
from tests.reconciler.backends.crontab.conftest import fixture_bytes, without_block

FIXTURES = [
    "plain.crontab",
    "crlf.crontab",
    "no_trailing_newline.crontab",
    "other_blocks.crontab",
    "empty.crontab",
    "unterminated_entry.crontab",
]
ENTRY = Item(
    "orders",
    "orders",
    {"schedule": "30 * * * *", "command": "run orders"},
    {"digest": "0123456789ab", "revision": "-"},
)


def splice(data: bytes, items: list[Item], env: str = "dev") -> bytes:
    document = block.parse(block.decode(data), env, "UTC")
    lines = block.render_items(env, items, "UTC", document.inherited_tz)
    return block.encode(block.replace_block(document, lines))


@pytest.mark.parametrize("name", FIXTURES)
def test_adding_then_removing_the_block_restores_every_byte(name: str) -> None:
    original = fixture_bytes(name)
    with_block = splice(original, [ENTRY])
    assert b"# salam job=orders digest=0123456789ab revision=-\n30 * * * * run orders\n" in (
        with_block
    )
    assert without_block(with_block) == original
    assert splice(with_block, []) == original


@pytest.mark.parametrize("name", FIXTURES)
def test_outside_lines_are_not_items(name: str) -> None:
    document = block.parse(block.decode(fixture_bytes(name)), "dev", "UTC")
    assert document.items == ()
    assert not document.has_block


def test_other_environments_blocks_are_never_ours() -> None:
    text = block.decode(fixture_bytes("other_blocks.crontab"))
    assert [i.job for i in block.parse(text, "uat", "UTC").items] == ["orders"]
    assert block.parse(text, "prod", "UTC").items == ()
    assert block.parse(text, "prod-eu", "UTC").has_block


def test_an_existing_block_is_replaced_in_place() -> None:
    original = fixture_bytes("existing_block.crontab")
    updated = splice(original, [ENTRY])
    assert without_block(updated) == without_block(original)
    assert updated.index(b"# BEGIN salam env=dev") == original.index(b"# BEGIN salam env=dev")
    assert b"retired" not in updated


def test_a_new_block_goes_before_an_unterminated_last_line() -> None:
    updated = splice(fixture_bytes("no_trailing_newline.crontab"), [ENTRY])
    assert updated.endswith(b"# END salam env=dev\n# the last line has no newline")


def test_entries_are_sorted_by_job() -> None:
    other = Item("accounts", "accounts", {"schedule": "0 1 * * *", "command": "run a"}, {})
    text = splice(b"", [ENTRY, other]).decode()
    assert text.index("job=accounts") < text.index("job=orders")


def test_entry_spec_normalises_whitespace_and_keeps_the_command() -> None:
    assert block.entry_spec("  */5\t* * *  1-5   cd /x && run  'a  b'  ") == {
        "schedule": "*/5 * * * 1-5",
        "command": "cd /x && run  'a  b'",
    }
    assert block.entry_spec("@reboot run x") == {"schedule": "@reboot", "command": "run x"}
    assert block.entry_spec("not a cron line")["problem"] == block.NOT_AN_ENTRY


def test_a_marker_without_entry_is_a_problem_item_not_a_crash() -> None:
    text = (
        "# BEGIN salam env=dev (managed by salam; edits inside are overwritten)\n"
        "# salam job=orders digest=0123456789ab revision=-\n"
        "# END salam env=dev\n"
    )
    (item,) = block.parse(text, "dev", "UTC").items
    assert item.job == "orders"
    assert item.spec["problem"] == block.NO_ENTRY


def test_garbage_inside_the_block_becomes_stray_items() -> None:
    text = (
        "# BEGIN salam env=dev (managed by salam; edits inside are overwritten)\n"
        "0 * * * * hand-added job\n"
        "# a comment someone wrote\n"
        "# salam job=orders digest=0123456789ab revision=-\n"
        "30 * * * * run orders\n"
        "# salam job=orders digest=0123456789ab revision=-\n"
        "\x00\xff garbage\n"
        "# END salam env=dev\n"
    )
    items = block.parse(text, "dev", "UTC").items
    assert [i.job for i in items if not i.stray] == ["orders"]
    strays = [i for i in items if i.stray]
    assert len(strays) == 4
    assert all(i.name.startswith("stray-") for i in strays)
    assert len({i.name for i in strays}) == 4


@pytest.mark.parametrize(
    "text",
    [
        "# BEGIN salam env=dev (x)\n0 * * * * a\n",
        "0 * * * * a\n# END salam env=dev\n",
        "# END salam env=dev\n# BEGIN salam env=dev (x)\n",
        "# BEGIN salam env=dev (x)\n# END salam env=dev\n# BEGIN salam env=dev (x)\n"
        "# END salam env=dev\n",
    ],
)
def test_a_broken_fence_is_an_error_naming_the_line(text: str) -> None:
    with pytest.raises(BlockError, match=r"environment 'dev'.*line"):
        block.parse(text, "dev", "UTC")


def test_cron_tz_is_written_where_it_changes_and_restored_before_end() -> None:
    berlin = Item(
        "b", "b", {"schedule": "0 9 * * *", "command": "x", "cron_tz": "Europe/Berlin"}, {}
    )
    plain = Item("c", "c", {"schedule": "0 9 * * *", "command": "y"}, {})
    text = splice(b"MAILTO=x\n", [berlin, plain]).decode()
    assert text.count("CRON_TZ=Europe/Berlin\n") == 1
    assert text.split("\n").count("CRON_TZ=UTC") == 1
    items = block.parse(text, "dev", "UTC").items
    assert [dict(i.spec) for i in items] == [dict(berlin.spec), dict(plain.spec)]


def test_cron_tz_set_before_the_block_is_inherited_and_restored() -> None:
    original = b"CRON_TZ=Asia/Tokyo\n0 9 * * * tokyo-job\n"
    text = splice(original, [ENTRY])
    assert without_block(text) == original
    assert text.endswith(
        b"CRON_TZ=UTC\n30 * * * * run orders\nCRON_TZ=Asia/Tokyo\n# END salam env=dev\n"
    )
    (item,) = block.parse(block.decode(text), "dev", "UTC").items
    assert "cron_tz" not in item.spec
