"""POST /messages: the official CEB 2022-05 samples as they are, and the attacks on it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import func, select

from hub.declarations.models import Declaration
from hub.messages.xsd import schema
from hub.trade.models import (
    CustomsStatusEvent,
    Inventory,
    Order,
    Payment,
    Receipt,
    Waybill,
    WaybillEvent,
)
from tests.builders.parties import Actors, hub_actors

__all__ = ["hub_actors"]

SAMPLES = Path(__file__).parent / "samples"
CEB = "{http://www.chinaport.gov.cn/ceb}"
# The enterprise each sample names in the role that sends it, and the graph table its
# records land in.
SENDER = {
    "CEB311": ("ebpCode", Order),
    "CEB411": ("payCode", Payment),
    "CEB511": ("logisticsCode", Waybill),
    "CEB513": ("logisticsCode", WaybillEvent),
    "CEB621": ("agentCode", Inventory),
    "CEB622": ("agentCode", CustomsStatusEvent),
    "CEB403": ("payCode", Receipt),
    "CEB505": ("logisticsCode", Waybill),
    "CEB623": ("agentCode", Declaration),
    "CEB625": ("agentCode", Declaration),
    "CEB507": ("logisticsCode", Declaration),
    "CEB509": ("logisticsCode", Declaration),
    "CEB701": ("agentCode", Declaration),
}


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.xml").read_bytes()


def named(body: bytes, field: str) -> str:
    element = etree.fromstring(body).find(f".//{CEB}{field}")
    assert element is not None and element.text
    return element.text


async def post(
    actors: Actors,
    body: bytes,
    *,
    token: str,
    content_type: str = "application/xml",
    **headers: str,
) -> httpx.Response:
    return await actors.http.post(
        "/messages",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type, **headers},
    )


@pytest.mark.parametrize("name", sorted(SENDER))
async def test_every_official_sample_is_accepted_stored_projected_and_served_back(
    hub_actors: Actors, name: str
) -> None:
    body = sample(name)
    field, table = SENDER[name]
    token = await hub_actors.enterprise(named(body, field))
    response = await post(hub_actors, body, token=token)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["messageType"] == f"{name}Message"
    assert answer["guid"] == etree.fromstring(body).get("guid")
    results = answer["results"]
    assert [r["index"] for r in results] == list(range(len(results)))
    assert results[0]["accepted"] and results[0]["duplicate"] is False, results[0]
    # Some samples repeat one record key with other content (the 511 sample ships six
    # orders on one waybill number, which a carrier may not reuse): the first is stored,
    # the others are refused as existing records, nothing else.
    refused = {e["code"] for r in results for e in r["errors"]}
    assert refused <= {"RECORD_EXISTS"}, results
    assert all(r["accepted"] != bool(r["errors"]) for r in results)
    async with hub_actors.app.state.runtime.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(table)) >= 1
    served = await hub_actors.http.get(
        f"/declarations/{results[0]['declarationId']}/message",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert served.status_code == 200
    assert served.content == body  # byte for byte, BOM and signature included


async def test_resending_a_message_answers_the_original_declarations(hub_actors: Actors) -> None:
    body = sample("CEB411")
    token = await hub_actors.enterprise(named(body, "payCode"))
    first = (await post(hub_actors, body, token=token)).json()["results"]
    again = (await post(hub_actors, body, token=token)).json()["results"]
    assert all(r["duplicate"] for r in again)
    assert [r["declarationId"] for r in again] == [r["declarationId"] for r in first]


@pytest.mark.parametrize(
    ("name", "field", "expected"),
    [
        ("CEB303", "ebpCode", {"OrderList[1]/unit", "OrderList[1]/currency"}),
        ("CEB603", "agentCode", {"InventoryHead/ieFlag", "InventoryHead/tradeMode"}),
    ],
)
async def test_the_303_and_603_samples_are_refused_at_exactly_their_invalid_values(
    hub_actors: Actors, name: str, field: str, expected: set[str]
) -> None:
    body = sample(name)
    token = await hub_actors.enterprise(named(body, field))
    results = (await post(hub_actors, body, token=token)).json()["results"]
    assert len(results) == 10
    for result in results:
        assert not result["accepted"] and result["declarationId"] is None
        assert {e["code"] for e in result["errors"]} == {"SCHEMA_VIOLATION"}
        record = f"/{name}Message/{'Order' if name == 'CEB303' else 'Inventory'}"
        record += f"[{result['index'] + 1}]/"
        assert {e["path"].removeprefix(record) for e in result["errors"]} == expected


async def test_xml_receipts_are_valid_customs_receipts_one_per_record(hub_actors: Actors) -> None:
    body = sample("CEB311")
    token = await hub_actors.enterprise(named(body, "ebpCode"))
    response = await post(hub_actors, body, token=token, Accept="application/xml")
    assert response.status_code == 200
    receipt = etree.ElementTree(etree.fromstring(response.content))
    assert etree.QName(receipt.getroot()).localname == "CEB312Message"
    assert schema("import.xsd").errors(receipt) == []
    returns = receipt.getroot().findall(f"{CEB}OrderReturn")
    assert len(returns) == 6
    assert {r.findtext(f"{CEB}returnStatus") for r in returns} == {"120"}


MALFORMED = b"<ceb:CEB311Message xmlns:ceb='http://www.chinaport.gov.cn/ceb'><ceb:Order>"
DOCTYPE = (
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'>]>"
    b"<ceb:CEB311Message xmlns:ceb='http://www.chinaport.gov.cn/ceb'>&a;</ceb:CEB311Message>"
)


def _without(body: bytes, field: str) -> bytes:
    root = etree.fromstring(body)
    element = root.find(f".//{CEB}{field}")
    assert element is not None
    element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(
    ("body", "status", "code", "path"),
    [
        (MALFORMED, 400, "XML_MALFORMED", ""),
        (DOCTYPE, 400, "XML_DTD_FORBIDDEN", ""),
        (
            sample("CEB311").replace(b"http://www.chinaport.gov.cn/ceb", b"urn:x"),
            400,
            "WRONG_NAMESPACE",
            "/CEB311Message",
        ),
        (
            sample("CEB311").replace(b"CEB311Message", b"CEB605Message"),
            422,
            "UNKNOWN_MESSAGE_TYPE",
            "/CEB605Message",
        ),
        (
            _without(sample("CEB311"), "orderNo"),
            422,
            "XSD_VIOLATION",
            "/CEB311Message/Order[1]/OrderHead/ebpCode",
        ),
        (b"\x00\x01 not xml at all", 400, "XML_MALFORMED", ""),
    ],
)
async def test_bad_messages_are_refused_whole_with_a_coded_error_naming_the_element(
    hub_actors: Actors, body: bytes, status: int, code: str, path: str
) -> None:
    token = await hub_actors.enterprise("1105910159")
    response = await post(hub_actors, body, token=token)
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert errors[0]["code"] == code
    assert errors[0]["path"] == path
    async with hub_actors.app.state.runtime.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0


async def test_a_message_is_declared_as_the_token_enterprise_never_as_the_one_it_names(
    hub_actors: Actors,
) -> None:
    # The 311 names 1105910159 as platform and seller; a stranger posting it declares nothing.
    token = await hub_actors.enterprise("9999999999")
    results = (await post(hub_actors, sample("CEB311"), token=token)).json()["results"]
    assert {e["code"] for r in results for e in r["errors"]} == {"NOT_A_PARTY"}


async def test_posting_needs_a_declare_token_and_xml(hub_actors: Actors) -> None:
    body = sample("CEB311")
    assert (await hub_actors.http.post("/messages", content=body)).status_code == 401
    customs = await hub_actors.reader("customs:read")
    assert (await post(hub_actors, body, token=customs)).status_code == 403
    token = await hub_actors.enterprise("1105910159")
    refused = await post(hub_actors, body, token=token, content_type="application/json")
    assert refused.status_code == 415
    assert refused.json()["errors"][0]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_the_original_xml_is_served_only_to_its_declarant_and_customs_with_pii(
    hub_actors: Actors,
) -> None:
    body = sample("CEB311")
    token = await hub_actors.enterprise("1105910159")
    declaration = (await post(hub_actors, body, token=token)).json()["results"][0]
    url = f"/declarations/{declaration['declarationId']}/message"

    async def status(bearer: str) -> int:
        response = await hub_actors.http.get(url, headers={"Authorization": f"Bearer {bearer}"})
        return response.status_code

    assert await status(await hub_actors.enterprise("9999999999")) == 404
    # The XML holds the buyer in clear: masked readers cannot be served it.
    assert await status(await hub_actors.reader("customs:read")) == 404
    assert await status(await hub_actors.reader("tax:read")) == 404
    assert await status(await hub_actors.reader("customs:read pii:read")) == 200
    unknown = await hub_actors.http.get(
        "/declarations/nope/message", headers={"Authorization": f"Bearer {token}"}
    )
    assert unknown.status_code == 404
