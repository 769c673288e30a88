"""One waybill number, one parcel, one order: the official 511 sample's six orders on one
logisticsNo.

The specification (CEB511 logisticsNo, import.xsd and the field table 3.5.4) says a
carrier's waybill number is its parcel's label number and is not repeated by that carrier
within six months; packNo, the parcels under one waybill, is "limited to 1"; the waybill
receipt (512/506) and the waybill status (513) name the waybill by logisticsCode +
logisticsNo alone, and an inventory names one logisticsNo per order. So several orders may
not share one waybill number: the sample is test data (it also repeats one record twice).
The hub keeps the key logisticsCode + logisticsNo; the first record is stored, the others
are refused RECORD_EXISTS with the reason. A number the carrier reuses after six months is
declared anew once the old waybill is cancelled.
"""

from __future__ import annotations

from lxml import etree
from sqlalchemy import select

from hub.trade.models import Waybill
from tests.builders.parties import Actors, hub_actors
from tests.customs.test_matching_xml import order_view, post_record
from tests.customs.test_xml_intake import CEB, named, post, sample
from tests.customs.xml_sets import import_set

__all__ = ["hub_actors"]


async def test_the_511_sample_stores_one_waybill_and_refuses_the_reused_number(
    hub_actors: Actors,
) -> None:
    body = sample("CEB511")
    orders = [e.text for e in etree.fromstring(body).iter(f"{CEB}orderNo")]
    assert len(orders) == 6 and len(set(orders)) == 5  # record 4 repeats record 3
    token = await hub_actors.enterprise(named(body, "logisticsCode"))
    results = (await post(hub_actors, body, token=token)).json()["results"]
    assert results[0]["accepted"]
    for result in results[1:]:
        assert not result["accepted"]
        (error,) = result["errors"]
        assert error["code"] == "RECORD_EXISTS"
        assert (
            error["path"]
            == f"/CEB511Message/Logistics[{result['index'] + 1}]/LogisticsHead/appType"
        )
        assert "not reused within six months" in error["message"]
    async with hub_actors.app.state.runtime.session_factory() as session:
        waybills = (await session.scalars(select(Waybill))).all()
    assert [(w.logistics_no, w.order_no) for w in waybills] == [("L201603081138007", orders[0])]


async def test_a_reused_waybill_number_is_declared_anew_after_the_old_one_is_cancelled(
    hub_actors: Actors,
) -> None:
    first, second = import_set("ORD-REUSE-0001"), import_set("ORD-REUSE-0002")
    number = first["CEB511"]["logisticsNo"]
    for docs in (first, second):
        docs["CEB511"]["logisticsNo"] = docs["CEB621"]["logisticsNo"] = number
    for name in ("CEB311", "CEB411", "CEB621", "CEB511"):
        assert (await post_record(hub_actors, name, first[name]))["accepted"]
    assert (await order_view(hub_actors, "ORD-REUSE-0001"))["matching"]["status"] == "MATCHED"

    # Six months on, the carrier labels another parcel with the same number.
    reused = await post_record(hub_actors, "CEB511", second["CEB511"])
    assert [e["code"] for e in reused["errors"]] == ["RECORD_EXISTS"]
    cancel = first["CEB511"] | {"appType": "3"}
    assert (await post_record(hub_actors, "CEB511", cancel))["accepted"]
    old = await order_view(hub_actors, "ORD-REUSE-0001")
    assert old["matching"]["status"] == "INCOMPLETE" and old["matching"]["missing"] == ["waybill"]
    assert (await post_record(hub_actors, "CEB511", second["CEB511"]))["accepted"]

    # The first order's inventory names that number too, but the new waybill names the
    # second order: it is never linked to the first.
    for name in ("CEB311", "CEB411"):
        assert (await post_record(hub_actors, name, second[name]))["accepted"]
    inventory = await post_record(hub_actors, "CEB621", second["CEB621"])
    assert inventory["accepted"], inventory
    new = await order_view(hub_actors, "ORD-REUSE-0002")
    assert new["matching"]["status"] == "MATCHED"
    assert new["waybill"]["logisticsNo"] == number
    old = await order_view(hub_actors, "ORD-REUSE-0001")
    assert old["waybill"] is None
