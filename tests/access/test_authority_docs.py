"""The authority table is printed into the README and the SDL from the code, not by hand."""

from __future__ import annotations

import re
from pathlib import Path

from hub.access import authority
from hub.graphql.schema import print_sdl

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = re.compile(
    r"<!-- authority-table:begin -->\n(.*?)<!-- authority-table:end -->", re.DOTALL
)


def test_the_readme_section_is_the_generated_table() -> None:
    found = SECTION.search(README.read_text(encoding="utf-8"))
    assert found is not None, "README lacks the authority-table markers"
    # Regenerate with `python -m hub.access.authority`.
    assert found.group(1) == authority.markdown_table()


def test_the_generated_table_names_every_record_type_role_and_link() -> None:
    table = authority.markdown_table()
    for rtype in authority.RECORD_TYPES.values():
        assert f"`{rtype.standard_id}`" in table
        for party in rtype.parties:
            assert f"{party.role.value} (`{party.field}`)" in table
        for link in rtype.links:
            assert f"`{rtype.standard_id}` | `{link.target}` by" in table
    # What the carrier reads of an order is the table's, not a copy of it.
    carrier = authority.RECORD_TYPES["cbec.waybill"].party(authority.Role.CARRIER)
    assert carrier is not None
    assert "registration, logistics" in table and "consignee" in table


def test_the_sdl_describes_each_record_type_with_its_authority_row() -> None:
    sdl = print_sdl()  # what `hub schema` prints
    for type_name, standard_id in (
        ("Order", "cbec.order"),
        ("Payment", "cbec.payment"),
        ("Receipt", "cbec.receipt"),
        ("Waybill", "cbec.waybill"),
        ("Inventory", "cbec.inventory"),
    ):
        described = authority.describe_type(standard_id)
        block = re.search(rf'"""([^"]*?)"""\s*type {type_name}\b', sdl)
        assert block is not None, type_name
        assert " ".join(described.split()) in " ".join(block.group(1).split()), type_name
