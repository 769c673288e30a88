"""Bank consents: granting, seeing, revoking, expiry, the hub's signature, active grants."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import update
from starlette.applications import Starlette

from hub.access import consents
from hub.access.consents import ConsentError, ConsentErrorCode, ConsentStatus
from hub.access.models import Consent
from hub.access.policy import Category
from hub.auth import clients
from hub.runtime import Runtime
from tests.support import TEST_ISSUER, jwt_claims

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

SELLER = "91320302MA1XYA0001"
CARRIER = "91320302MA1XYB0008"

FIELDS = """
  id enterprise bank bankName categories purpose dataFrom dataTo expiresAt status
  createdAt revokedAt jws
"""
GRANT = f"""
mutation($input: GrantConsentInput!) {{
  grantConsent(input: $input) {{ consent {{ {FIELDS} }} errors {{ code path message }} }}
}}"""
REVOKE = f"""
mutation($id: ID!) {{
  revokeConsent(id: $id) {{ consent {{ {FIELDS} }} errors {{ code path message }} }}
}}"""
CONSENTS = f"{{ consents {{ {FIELDS} }} }}"


@dataclass(frozen=True)
class Caller:
    token: str
    client_id: str


@dataclass(frozen=True)
class Parties:
    seller: Caller
    carrier: Caller
    bank: Caller
    other_bank: Caller
    customs: Caller
    supervisor: Caller


@pytest.fixture
async def parties(get_token: Token) -> Parties:
    async def caller(**kwargs: Any) -> Caller:
        token = await get_token(**kwargs)
        return Caller(token, str(jwt_claims(token)["client_id"]))

    return Parties(
        seller=await caller(scopes="declare", enterprise=SELLER, name="Seller ERP"),
        carrier=await caller(scopes="declare", enterprise=CARRIER, name="Carrier TMS"),
        bank=await caller(scopes="finance:read", name="Bank of the Zone"),
        other_bank=await caller(scopes="finance:read", name="Other Bank"),
        customs=await caller(scopes="customs:read pii:read", name="Customs"),
        supervisor=await caller(scopes="audit:read", name="Supervisor"),
    )


@pytest.fixture
def runtime(app: Starlette) -> Runtime:
    result: Runtime = app.state.runtime
    return result


def grant_input(bank: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "bank": bank,
        "categories": ["ORDER", "PAYMENT"],
        "purpose": "working-capital loan assessment",
        "dataFrom": "2025-01-01",
        "dataTo": "2025-12-31",
        "expiresAt": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
    }
    values.update(overrides)
    return values


async def grant(gql: Gql, caller: Caller, bank: str, **overrides: Any) -> dict[str, Any]:
    body = await gql(GRANT, token=caller.token, variables={"input": grant_input(bank, **overrides)})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["grantConsent"]
    return result


async def granted(gql: Gql, caller: Caller, bank: str, **overrides: Any) -> dict[str, Any]:
    result = await grant(gql, caller, bank, **overrides)
    assert result["errors"] == [], result
    consent: dict[str, Any] = result["consent"]
    return consent


async def visible_ids(gql: Gql, caller: Caller) -> list[str]:
    body = await gql(CONSENTS, token=caller.token)
    assert "errors" not in body, body
    return [c["id"] for c in body["data"]["consents"]]


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["errors"]]


async def public_keys(http: httpx.AsyncClient) -> KeySet:
    response = await http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return KeySet.import_key_set(response.json())


# --- granting and the signature ---------------------------------------------------------


async def test_enterprise_grants_a_bank_an_active_consent(gql: Gql, parties: Parties) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)

    assert consent["status"] == "ACTIVE"
    assert consent["enterprise"] == SELLER
    assert consent["bank"] == parties.bank.client_id
    assert consent["bankName"] == "Bank of the Zone"
    assert consent["categories"] == ["ORDER", "PAYMENT"]
    assert consent["purpose"] == "working-capital loan assessment"
    assert (consent["dataFrom"], consent["dataTo"]) == ("2025-01-01", "2025-12-31")
    assert consent["revokedAt"] is None
    assert await visible_ids(gql, parties.seller) == [consent["id"]]


async def test_consent_jws_verifies_with_the_published_jwks_and_carries_the_grant(
    gql: Gql, http: httpx.AsyncClient, parties: Parties
) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    consent = await granted(
        gql, parties.seller, parties.bank.client_id, expiresAt=expires.isoformat()
    )

    token = jwt.decode(consent["jws"], await public_keys(http))

    assert token.header["typ"] == "consent+jwt"
    assert token.header["alg"] == "ES256"
    assert token.header["kid"]
    claims = token.claims
    assert claims["iss"] == TEST_ISSUER
    assert claims["jti"] == consent["id"]
    assert claims["sub"] == SELLER
    assert claims["aud"] == parties.bank.client_id
    assert claims["categories"] == ["order", "payment"]
    assert claims["purpose"] == "working-capital loan assessment"
    assert (claims["data_from"], claims["data_to"]) == ("2025-01-01", "2025-12-31")
    assert claims["exp"] == int(expires.timestamp())
    assert abs(claims["iat"] - datetime.now(UTC).timestamp()) < 60
    # What a bank's verifier does: require the audience and check exp/iat.
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": TEST_ISSUER},
        aud={"essential": True, "value": parties.bank.client_id},
    ).validate(claims)


async def test_tampered_consent_jws_fails_verification(
    gql: Gql, http: httpx.AsyncClient, parties: Parties
) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)
    header, payload, signature = consent["jws"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["categories"] = [*claims["categories"], "personal"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    keys = await public_keys(http)

    jwt.decode(consent["jws"], keys)  # the untouched consent verifies …
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{forged_payload}.{signature}", keys)  # … the edited one not


async def test_consent_signed_with_a_foreign_key_fails_verification(
    gql: Gql, http: httpx.AsyncClient, parties: Parties
) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)
    genuine = jwt.decode(consent["jws"], await public_keys(http))
    foreign = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode(genuine.header, genuine.claims, foreign)

    with pytest.raises(BadSignatureError):
        jwt.decode(forged, await public_keys(http))


async def test_expired_consent_jws_is_refused_by_a_claims_check(
    gql: Gql, http: httpx.AsyncClient, parties: Parties
) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)
    claims = jwt.decode(consent["jws"], await public_keys(http)).claims
    registry = jwt.JWTClaimsRegistry(now=lambda: claims["exp"] + 1)

    with pytest.raises(ExpiredTokenError):
        registry.validate(claims)


# --- who sees what ----------------------------------------------------------------------


async def test_bank_sees_consents_granted_to_it_and_nobody_unrelated_does(
    gql: Gql, parties: Parties
) -> None:
    to_bank = await granted(gql, parties.seller, parties.bank.client_id)
    to_other_bank = await granted(gql, parties.carrier, parties.other_bank.client_id)

    assert await visible_ids(gql, parties.bank) == [to_bank["id"]]
    assert await visible_ids(gql, parties.other_bank) == [to_other_bank["id"]]
    assert await visible_ids(gql, parties.seller) == [to_bank["id"]]
    assert await visible_ids(gql, parties.carrier) == [to_other_bank["id"]]
    assert sorted(await visible_ids(gql, parties.supervisor)) == sorted(
        [to_bank["id"], to_other_bank["id"]]
    )


async def test_client_that_is_neither_party_nor_supervisor_cannot_list_consents(
    gql: Gql, parties: Parties
) -> None:
    await granted(gql, parties.seller, parties.bank.client_id)

    body = await gql(CONSENTS, token=parties.customs.token)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# --- revoking ---------------------------------------------------------------------------


async def test_revoked_consent_reads_revoked_and_a_second_revocation_is_refused(
    gql: Gql, parties: Parties
) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)

    first = await gql(REVOKE, token=parties.seller.token, variables={"id": consent["id"]})
    revoked = first["data"]["revokeConsent"]
    assert revoked["errors"] == []
    assert revoked["consent"]["status"] == "REVOKED"
    assert revoked["consent"]["revokedAt"] is not None

    second = await gql(REVOKE, token=parties.seller.token, variables={"id": consent["id"]})
    assert second["data"]["revokeConsent"]["consent"] is None
    assert codes(second["data"]["revokeConsent"]) == ["ALREADY_REVOKED"]

    body = await gql(CONSENTS, token=parties.bank.token)
    assert [c["status"] for c in body["data"]["consents"]] == ["REVOKED"]


async def test_enterprise_cannot_revoke_another_enterprises_consent(
    gql: Gql, parties: Parties
) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)

    body = await gql(REVOKE, token=parties.carrier.token, variables={"id": consent["id"]})

    assert codes(body["data"]["revokeConsent"]) == ["NOT_YOURS"]
    listed = await gql(CONSENTS, token=parties.seller.token)
    assert [c["status"] for c in listed["data"]["consents"]] == ["ACTIVE"]


async def test_revoking_an_unknown_consent_is_refused(gql: Gql, parties: Parties) -> None:
    body = await gql(REVOKE, token=parties.seller.token, variables={"id": "cns_nope"})

    assert codes(body["data"]["revokeConsent"]) == ["UNKNOWN_CONSENT"]


async def test_revoked_consent_grants_nothing(gql: Gql, parties: Parties, runtime: Runtime) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)
    await gql(REVOKE, token=parties.seller.token, variables={"id": consent["id"]})

    async with runtime.session_factory() as session:
        grants = await consents.active_grants(
            session=session,
            bank_client_id=parties.bank.client_id,
            enterprise_codes=[SELLER],
            at=datetime.now(UTC),
        )

    assert grants == {}


# --- refusals ---------------------------------------------------------------------------


async def test_client_without_declare_scope_cannot_grant(gql: Gql, parties: Parties) -> None:
    for caller in (parties.customs, parties.bank):
        body = await gql(
            GRANT,
            token=caller.token,
            variables={"input": grant_input(parties.bank.client_id)},
        )
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "declare" in body["errors"][0]["message"]
    assert await visible_ids(gql, parties.supervisor) == []


async def test_client_without_declare_scope_cannot_revoke(gql: Gql, parties: Parties) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)

    body = await gql(REVOKE, token=parties.bank.token, variables={"id": consent["id"]})

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = await gql(CONSENTS, token=parties.seller.token)
    assert [c["status"] for c in listed["data"]["consents"]] == ["ACTIVE"]


@pytest.mark.parametrize(
    ("overrides", "code", "path"),
    [
        ({"bank": "hub_does_not_exist"}, "UNKNOWN_BANK", "bank"),
        ({"categories": []}, "NO_CATEGORIES", "categories"),
        ({"categories": ["ORDER", "PERSONAL"]}, "CATEGORY_NOT_CONSENTABLE", "categories/1"),
        ({"categories": ["TAX"]}, "CATEGORY_NOT_CONSENTABLE", "categories/0"),
        ({"categories": ["GOODS"]}, "CATEGORY_NOT_CONSENTABLE", "categories/0"),
        ({"purpose": "   "}, "INVALID_PURPOSE", "purpose"),
        ({"purpose": "x" * 501}, "INVALID_PURPOSE", "purpose"),
        ({"dataFrom": "2025-02-01", "dataTo": "2025-01-31"}, "INVALID_PERIOD", "dataTo"),
        ({"expiresAt": "2020-01-01T00:00:00+00:00"}, "ALREADY_EXPIRED", "expiresAt"),
        ({"expiresAt": "2999-01-01T00:00:00"}, "TIMEZONE_REQUIRED", "expiresAt"),
    ],
)
async def test_grant_refusal_is_coded_and_stores_nothing(
    gql: Gql, parties: Parties, overrides: dict[str, Any], code: str, path: str
) -> None:
    changes = dict(overrides)
    bank = changes.pop("bank", parties.bank.client_id)
    result = await grant(gql, parties.seller, bank, **changes)

    assert result["consent"] is None
    assert [(e["code"], e["path"]) for e in result["errors"]] == [(code, path)]
    assert result["errors"][0]["message"]
    assert await visible_ids(gql, parties.supervisor) == []


async def test_grant_to_a_client_that_is_not_a_bank_is_refused(gql: Gql, parties: Parties) -> None:
    for not_a_bank in (parties.customs, parties.carrier):
        result = await grant(gql, parties.seller, not_a_bank.client_id)
        assert codes(result) == ["UNKNOWN_BANK"]


async def test_grant_to_a_disabled_bank_is_refused(
    gql: Gql, parties: Parties, runtime: Runtime
) -> None:
    async with runtime.session_factory() as session, session.begin():
        await clients.disable(session=session, client_id=parties.bank.client_id)

    result = await grant(gql, parties.seller, parties.bank.client_id)

    assert codes(result) == ["UNKNOWN_BANK"]


async def test_grant_reports_every_problem_at_once(gql: Gql, parties: Parties) -> None:
    result = await grant(
        gql,
        parties.seller,
        "hub_nobody",
        categories=["PERSONAL"],
        purpose="",
        dataFrom="2025-12-31",
        dataTo="2025-01-01",
        expiresAt="2020-01-01T00:00:00Z",
    )

    assert codes(result) == [
        "UNKNOWN_BANK",
        "CATEGORY_NOT_CONSENTABLE",
        "INVALID_PURPOSE",
        "INVALID_PERIOD",
        "ALREADY_EXPIRED",
    ]


async def test_client_not_bound_to_an_enterprise_cannot_grant_or_revoke(
    parties: Parties, runtime: Runtime
) -> None:
    # Only reachable with an external IdP token carrying `declare` but no enterprise_code.
    async with runtime.session_factory() as session:
        with pytest.raises(ConsentError) as granting:
            await consents.grant(
                session=session,
                enterprise_code=None,
                granted_by="external-client",
                bank_client_id=parties.bank.client_id,
                categories=["order"],
                purpose="loan",
                data_from=date(2025, 1, 1),
                data_to=date(2025, 12, 31),
                expires_at=datetime.now(UTC) + timedelta(days=1),
                keys=runtime.keys,
                issuer=TEST_ISSUER,
            )
        with pytest.raises(ConsentError) as revoking:
            await consents.revoke(session=session, consent_id="cns_x", enterprise_code=None)

    assert granting.value.code is ConsentErrorCode.NOT_AN_ENTERPRISE
    assert revoking.value.code is ConsentErrorCode.NOT_AN_ENTERPRISE


# --- expiry -----------------------------------------------------------------------------


async def test_consent_is_active_until_its_expiry_and_grants_nothing_from_then_on(
    gql: Gql, parties: Parties, runtime: Runtime
) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    consent = await granted(
        gql, parties.seller, parties.bank.client_id, expiresAt=expires.isoformat()
    )
    assert consent["status"] == "ACTIVE"

    async with runtime.session_factory() as session:
        row = await session.get(Consent, consent["id"])
        assert row is not None
        before = await consents.active_grants(
            session=session,
            bank_client_id=parties.bank.client_id,
            enterprise_codes=[SELLER],
            at=datetime.now(UTC),
        )
        at_expiry = await consents.active_grants(
            session=session,
            bank_client_id=parties.bank.client_id,
            enterprise_codes=[SELLER],
            at=row.expires_at,
        )
        status_before = consents.effective_status(row, row.expires_at - timedelta(seconds=1))
        status_at = consents.effective_status(row, row.expires_at)
        status_after = consents.effective_status(row, row.expires_at + timedelta(days=1))

    assert before[SELLER].consent_ids == (consent["id"],)
    assert before[SELLER].categories == {Category.ORDER, Category.PAYMENT}
    assert at_expiry == {}
    assert (status_before, status_at, status_after) == (
        ConsentStatus.ACTIVE,
        ConsentStatus.EXPIRED,
        ConsentStatus.EXPIRED,
    )


async def test_status_is_computed_when_read(gql: Gql, parties: Parties, runtime: Runtime) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)
    # Stands in for time passing: the stored row says nothing but its expiry changed.
    async with runtime.session_factory() as session, session.begin():
        await session.execute(
            update(Consent)
            .where(Consent.id == consent["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    body = await gql(CONSENTS, token=parties.bank.token)

    assert [c["status"] for c in body["data"]["consents"]] == ["EXPIRED"]


async def test_revocation_outranks_expiry_in_the_status(
    gql: Gql, parties: Parties, runtime: Runtime
) -> None:
    consent = await granted(gql, parties.seller, parties.bank.client_id)
    await gql(REVOKE, token=parties.seller.token, variables={"id": consent["id"]})

    async with runtime.session_factory() as session:
        row = await session.get(Consent, consent["id"])
        assert row is not None

    assert consents.effective_status(row, row.expires_at + timedelta(days=1)) is (
        ConsentStatus.REVOKED
    )


# --- active grants (what the access policy asks) ----------------------------------------


async def test_active_grants_unions_consents_but_keeps_each_to_its_period(
    gql: Gql, parties: Parties, runtime: Runtime
) -> None:
    orders_2024 = await granted(
        gql,
        parties.seller,
        parties.bank.client_id,
        categories=["ORDER", "CREDIT"],
        dataFrom="2024-01-01",
        dataTo="2024-12-31",
    )
    payments_2025 = await granted(
        gql,
        parties.seller,
        parties.bank.client_id,
        categories=["PAYMENT", "CREDIT"],
        dataFrom="2024-07-01",
        dataTo="2025-06-30",
    )
    carrier = await granted(gql, parties.carrier, parties.bank.client_id, categories=["LOGISTICS"])
    await granted(gql, parties.seller, parties.other_bank.client_id, categories=["CLEARANCE"])

    async with runtime.session_factory() as session:
        grants = await consents.active_grants(
            session=session,
            bank_client_id=parties.bank.client_id,
            enterprise_codes=[SELLER, CARRIER, "91320302MA1XYC009B"],
            at=datetime.now(UTC),
        )

    assert set(grants) == {SELLER, CARRIER}
    seller = grants[SELLER]
    assert set(seller.consent_ids) == {orders_2024["id"], payments_2025["id"]}
    assert seller.categories == {Category.ORDER, Category.PAYMENT, Category.CREDIT}
    assert (seller.data_from, seller.data_to) == (date(2024, 1, 1), date(2025, 6, 30))
    # Only the 2024 consent: no payments before July 2024.
    assert seller.categories_on(date(2024, 3, 1)) == {Category.ORDER, Category.CREDIT}
    # Both consents overlap.
    assert seller.categories_on(date(2024, 12, 31)) == {
        Category.ORDER,
        Category.PAYMENT,
        Category.CREDIT,
    }
    # Only the 2025 consent: no orders after 2024.
    assert seller.categories_on(date(2025, 1, 1)) == {Category.PAYMENT, Category.CREDIT}
    assert seller.categories_on(date(2023, 12, 31)) == frozenset()
    assert seller.categories_on(date(2025, 7, 1)) == frozenset()
    assert seller.consent_ids_on(date(2025, 1, 1)) == (payments_2025["id"],)
    assert seller.consent_ids_on(date(2024, 8, 1), Category.ORDER) == (orders_2024["id"],)
    assert grants[CARRIER].consent_ids == (carrier["id"],)
    assert grants[CARRIER].categories == {Category.LOGISTICS}


async def test_active_grants_of_no_enterprises_is_empty(parties: Parties, runtime: Runtime) -> None:
    async with runtime.session_factory() as session:
        grants = await consents.active_grants(
            session=session,
            bank_client_id=parties.bank.client_id,
            enterprise_codes=[],
            at=datetime.now(UTC),
        )

    assert grants == {}


async def test_active_grants_without_enterprise_codes_covers_every_consenting_enterprise(
    gql: Gql, parties: Parties, runtime: Runtime
) -> None:
    seller = await granted(gql, parties.seller, parties.bank.client_id)
    carrier = await granted(gql, parties.carrier, parties.bank.client_id)
    await granted(gql, parties.seller, parties.other_bank.client_id)

    async with runtime.session_factory() as session:
        grants = await consents.active_grants(
            session=session,
            bank_client_id=parties.bank.client_id,
            enterprise_codes=None,
            at=datetime.now(UTC),
        )

    assert {code: g.consent_ids for code, g in grants.items()} == {
        SELLER: (seller["id"],),
        CARRIER: (carrier["id"],),
    }
