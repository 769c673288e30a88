"""The authority table: who may create, change, cancel and link each kind of record, and
what each party reads of it. The one place the party rule lives.

Every record of a modelled standard names its parties in payload fields (`ebpCode` the
platform, `payCode` the payment institution, ...). The table below says, per standard:

- the record's key fields (its identity) and the fields naming the order it belongs to;
- its parties: role → the payload field naming it, the graph column holding it, and what
  that role reads of the record (data categories, and which personal fields it sees masked);
- which roles may create (`appType` 1), change (2) and cancel (3) it;
- its links to other records (a payment to its order, an inventory to its waybill ...):
  which fields find the target, and which fields both records must agree on where the
  target names them (the specification's "names each other").

From this table come: the write check of the intake (`check_create`, `check_stored`,
`check_link`), the graph's link choice (`choose_linked`), the SQL row predicate and the
Python read check of the order graph (`order_group_clause`, `order_reads`), the owner
columns of the per-enterprise document lists (`owner_columns`), and the text printed into
the README and the SDL (`markdown_table`, `describe_type`). New record types (more customs
messages) are new rows of `RECORD_TYPES`.

Decisions the table records (see the README section "Who may write and read a record"):
- Creating a record needs a role the specification has send it: the platform or seller an
  order, the payment institution a payment, the carrier a waybill and its milestones, the
  customs broker (`agentCode`, the declaring enterprise) an inventory and its receipts.
  Being named in another role (a payment institution on an order) is not enough.
- Changes and cancellations are checked against the *stored* record: the declarant must
  hold a changing role there, and the change may not alter the key or any party (a record
  with other parties is another record: cancel it and declare it anew).
- The platform may also cancel an inventory declared under its order key (so an inventory
  that a stranger filed against its order does not block the real broker for ever).
- A link is accepted at intake only when the target, if already stored, agrees; a record
  whose target arrives later is stored, and the graph links it only if it agrees then
  (`choose_linked`): it stays unmatched otherwise. Among several agreeing documents the
  first declared wins (a later one never replaces it), except that the waybill the linked
  inventory names is preferred (the inventory is the broker's word on which parcel it is).
- Reads: platform and seller read everything but personal data of their orders and every
  document linked to them; the payment institution the order names reads the order header
  and payments; the carrier of the waybill the order's inventory names reads logistics and
  the consignee (a waybill alone is only its carrier's claim); the
  broker and guarantor of the linked inventory read clearance and tax, the owner goods,
  clearance and tax. Personal data is always masked for enterprises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true, tuple_

from hub.access.policy import Category
from hub.declarations.errors import DeclarationErrorCode, DeclarationIssue

C = Category


class Role(StrEnum):
    """The part an enterprise plays in a record."""

    ENTERPRISE = "enterprise"  # the enterprise a registration record describes
    PLATFORM = "platform"  # e-commerce platform (ebpCode)
    SELLER = "seller"  # e-commerce enterprise (ebcCode)
    PAYMENT = "payment"  # payment institution (payCode)
    CARRIER = "carrier"  # logistics enterprise (logisticsCode)
    BROKER = "broker"  # customs declaration agent, the declaring enterprise (agentCode)
    GUARANTOR = "guarantor"  # bears the withheld tax (assureCode)
    OWNER = "owner"  # owner of the exported goods (ownerCode)
    OPERATOR = "operator"  # operator of the customs supervision site (operatorCode)


class Action(StrEnum):
    """What a declaration does to its record (`appType`)."""

    CREATE = "1"
    CHANGE = "2"
    CANCEL = "3"


_ALL_BUT_PERSONAL = frozenset(c for c in Category if c is not Category.PERSONAL)
_BUYER = frozenset({"buyerName", "buyerIdType", "buyerIdNumber", "buyerTelephone", "buyerRegNo"})
_CONSIGNEE = frozenset({"consignee", "consigneeTelephone", "consigneeAddress", "consigneeDistrict"})
_PAYER = frozenset({"payerName", "payerIdType", "payerIdNumber", "telephone"})
# The specification's words for "no code": `无` for a foreign platform without a customs
# code (ebpCode), `NO` for a producer not registered with customs (ownerCode). They name
# nobody, so they make nobody a party (no client bound to "无" declares for every foreign
# platform).
PLACEHOLDER_CODES = frozenset({"无", "NO"})


@dataclass(frozen=True)
class Reads:
    """What one role reads of a record: categories, and which personal fields (always
    masked for enterprises). `personal=None` means every personal field."""

    categories: frozenset[Category]
    personal: frozenset[str] | None = frozenset()

    def __or__(self, other: Reads) -> Reads:
        personal: frozenset[str] | None
        if self.personal is None or other.personal is None:
            personal = None
        else:
            personal = self.personal | other.personal
        return Reads(self.categories | other.categories, personal)

    @property
    def empty(self) -> bool:
        """True when the role reads nothing at all."""
        return not self.categories and self.personal == frozenset()

    def narrowed_to(self, categories: Iterable[Category]) -> Reads:
        """These reads limited to some categories (a bank's consent); personal fields are
        kept only when the consent names the personal category's carriers at all."""
        allowed = frozenset(categories)
        return Reads(self.categories & allowed, self.personal if allowed else frozenset())


EVERYTHING = Reads(_ALL_BUT_PERSONAL, None)  # platform, seller: all, personal masked
NOTHING = Reads(frozenset())


@dataclass(frozen=True)
class Party:
    """A role of a record: the payload field naming it and what the role reads.

    `column` is the field's column on the record's graph table (None when the table has
    none); `order_column` the column of `orders` that carries this party for the order's
    whole group of documents (None when the role reads the order through no column)."""

    role: Role
    field: str
    reads: Reads
    column: str | None = None
    order_column: str | None = None


@dataclass(frozen=True)
class Link:
    """A record names another one. `join` pairs (own field, target key field) find the
    target; `agree` pairs must hold equal values wherever both records name them."""

    target: str
    join: tuple[tuple[str, str], ...]
    agree: tuple[tuple[str, str], ...] = ()

    def target_key(self, payload: Mapping[str, Any]) -> str | None:
        """The target's record key, or None when the record does not name a target."""
        values = [payload.get(own) for own, _ in self.join]
        if any(v in (None, "") for v in values):
            return None
        return "|".join(str(v) for v in values)

    def disagreement(self, payload: Mapping[str, Any], target: Mapping[str, Any]) -> list[str]:
        """The target's fields that name something else than this record does. A pair is
        compared only where both records name it: the specification matches `payCode`
        and `payTransactionId` only when the order names them, and a standard version
        that lacks a field (cbec.receipt 1.0.0 has no `ebcCode`) cannot contradict."""
        differing = []
        for own, theirs in self.agree:
            mine, named = payload.get(own), target.get(theirs)
            if mine in (None, "") or named in (None, ""):
                continue
            if str(mine) != str(named):
                differing.append(theirs)
        return differing


@dataclass(frozen=True)
class RecordType:
    """How the hub treats records of one standard: identity, parties, actions, links."""

    standard_id: str
    title: str
    key_fields: tuple[str, ...]
    # Fields naming the order (ebpCode, orderNo) whose matching this record affects; None
    # when the record is linked through its waybill (logistics statuses).
    order_fields: tuple[str, str] | None
    node: str  # the graph table the record projects into (hub/trade/projection.py)
    parties: tuple[Party, ...]
    create: frozenset[Role]
    change: frozenset[Role]
    cancel: frozenset[Role]
    links: tuple[Link, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # Per major version of the standard, the fields that differ: (major, {field: value}).
    # 2.0.0 follows the CEB 2022-05 specification, whose records are keyed differently
    # (622 by copNo / preNo / invtNo, 513 by logisticsTime, 403 by its order).
    majors: tuple[tuple[int, Mapping[str, Any]], ...] = ()
    # Said with RECORD_EXISTS: why a second record under the same key is refused.
    exists_hint: str | None = None

    def for_major(self, major: int) -> RecordType:
        """The record type as one major version of its standard shapes the record."""
        for number, overrides in self.majors:
            if number == major:
                return replace(self, majors=(), **overrides)
        return self

    def key(self, payload: Mapping[str, Any]) -> str:
        """The record's identity, e.g. `91320302MA1XYZ0001|ORD-1` for an order."""
        return "|".join(str(payload.get(f, "")) for f in self.key_fields)

    def key_values(self, payload: Mapping[str, Any]) -> tuple[str, ...]:
        """The key fields' values one by one (the joined key cannot tell `a|b`+`c` from
        `a`+`b|c`)."""
        return tuple(str(payload.get(f, "")) for f in self.key_fields)

    def parties_of(self, payload: Mapping[str, Any]) -> dict[Role, str]:
        """Role → enterprise code the payload names (roles left empty are absent)."""
        named = {}
        for party in self.parties:
            value = payload.get(party.field)
            if value not in (None, "") and value not in PLACEHOLDER_CODES:
                named[party.role] = str(value)
        return named

    def party_codes(self, payload: Mapping[str, Any]) -> frozenset[str]:
        """The enterprise codes the record names as parties."""
        return frozenset(self.parties_of(payload).values())

    def roles_of(self, code: str | None, payload: Mapping[str, Any]) -> frozenset[Role]:
        """The roles the enterprise `code` plays in the record."""
        if not code:
            return frozenset()
        return frozenset(r for r, c in self.parties_of(payload).items() if c == code)

    def allowed(self, action: Action) -> frozenset[Role]:
        """The roles that may perform the action."""
        return {Action.CREATE: self.create, Action.CHANGE: self.change}.get(action, self.cancel)

    def party(self, role: Role) -> Party | None:
        """The party entry of a role, if the record has that role."""
        return next((p for p in self.parties if p.role is role), None)

    def reads_of(self, roles: Iterable[Role]) -> Reads:
        """What the union of these roles reads of the record."""
        reads = NOTHING
        for party in self.parties:
            if party.role in roles:
                reads = reads | party.reads
        return reads

    def order_key(self, payload: Mapping[str, Any]) -> tuple[str, str] | None:
        """(ebpCode, orderNo) of the order this record belongs to."""
        if self.order_fields is None:
            return None
        ebp, order_no = (payload.get(f) for f in self.order_fields)
        return (str(ebp), str(order_no)) if ebp and order_no else None

    def link_to(self, target: str) -> Link | None:
        """This record's link to records of the target standard, if any."""
        return next((link for link in self.links if link.target == target), None)


# --- the table ---------------------------------------------------------------------------

_ORDER = ("ebpCode", "orderNo")
_ORDER_JOIN = (("ebpCode", "ebpCode"), ("orderNo", "orderNo"))
_HEADER = Reads(frozenset({C.REGISTRATION, C.ORDER, C.PAYMENT}), _PAYER)
_CARRIES = Reads(frozenset({C.REGISTRATION, C.LOGISTICS}), _CONSIGNEE)
_STANDS_FOR = Reads(frozenset({C.REGISTRATION, C.CLEARANCE, C.TAX}))
_OWNS_GOODS = Reads(frozenset({C.REGISTRATION, C.GOODS, C.CLEARANCE, C.TAX}))
_OWN_PAYMENT = Reads(frozenset({C.REGISTRATION, C.PAYMENT}), _PAYER)
_DECLARED = Reads(frozenset({C.REGISTRATION, C.CLEARANCE}))
_NAMED_ONLY = NOTHING  # named for a link, reads nothing through this record
_SITE = Reads(frozenset({C.REGISTRATION, C.LOGISTICS}))  # a site operator: the parcels
# A request on an inventory (623 / 625) names the inventory's parties; only the broker that
# declared the inventory may make it count (the graph links it only where they agree).
_ON_INVENTORY = (
    Link(
        "cbec.inventory",
        _ORDER_JOIN,
        (
            ("agentCode", "agentCode"),
            ("ebcCode", "ebcCode"),
            ("logisticsCode", "logisticsCode"),
            ("logisticsNo", "logisticsNo"),
        ),
    ),
)
_INVENTORY_PARTIES = (
    Party(Role.BROKER, "agentCode", _STANDS_FOR, "agent_code"),
    Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code"),
    Party(Role.SELLER, "ebcCode", EVERYTHING),
    Party(Role.CARRIER, "logisticsCode", _NAMED_ONLY),
)
_BROKER_ONLY = frozenset({Role.BROKER})

RECORD_TYPES: dict[str, RecordType] = {
    t.standard_id: t
    for t in (
        RecordType(
            "cbec.enterprise",
            "enterprise filing",
            ("code",),
            None,
            "enterprise",
            parties=(Party(Role.ENTERPRISE, "code", EVERYTHING, column="code"),),
            create=frozenset({Role.ENTERPRISE}),
            change=frozenset({Role.ENTERPRISE}),
            cancel=frozenset({Role.ENTERPRISE}),
            notes=("only the enterprise files, changes or withdraws its own filing",),
        ),
        RecordType(
            "cbec.order",
            "order (311 / 303)",
            ("ebpCode", "orderNo"),
            _ORDER,
            "order",
            parties=(
                Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code", "ebp_code"),
                Party(Role.SELLER, "ebcCode", EVERYTHING, "ebc_code", "ebc_code"),
                Party(Role.PAYMENT, "payCode", _HEADER, "pay_code", "pay_code"),
            ),
            create=frozenset({Role.PLATFORM, Role.SELLER}),
            change=frozenset({Role.PLATFORM, Role.SELLER}),
            cancel=frozenset({Role.PLATFORM, Role.SELLER}),
            notes=(
                "the seller sends the order where the platform is not registered with "
                "customs (specification, ebpCode)",
                "the payment institution an order names reads its header and payment, "
                "never its lines, taxes or logistics",
            ),
        ),
        RecordType(
            "cbec.payment",
            "payment (411)",
            ("payCode", "payTransactionId"),
            _ORDER,
            "payment",
            parties=(
                Party(Role.PAYMENT, "payCode", _OWN_PAYMENT, "pay_code"),
                Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code", "ebp_code"),
            ),
            create=frozenset({Role.PAYMENT}),
            change=frozenset({Role.PAYMENT}),
            cancel=frozenset({Role.PAYMENT}),
            links=(
                Link(
                    "cbec.order",
                    _ORDER_JOIN,
                    (("payCode", "payCode"), ("payTransactionId", "payTransactionId")),
                ),
            ),
        ),
        RecordType(
            "cbec.receipt",
            "receipt of payment (403)",
            ("payCode", "payNo"),
            _ORDER,
            "receipt",
            parties=(
                Party(Role.PAYMENT, "payCode", _OWN_PAYMENT, "pay_code"),
                Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code", "ebp_code"),
                Party(Role.SELLER, "ebcCode", EVERYTHING, "ebc_code", "ebc_code"),
            ),
            create=frozenset({Role.PAYMENT, Role.SELLER}),
            change=frozenset({Role.PAYMENT, Role.SELLER}),
            cancel=frozenset({Role.PAYMENT, Role.SELLER}),
            links=(
                Link(
                    "cbec.order",
                    _ORDER_JOIN,
                    (
                        ("ebcCode", "ebcCode"),
                        ("payCode", "payCode"),
                        ("payNo", "payTransactionId"),
                    ),
                ),
            ),
            # CEB403 makes payCode and payNo optional: one receipt per order.
            majors=((2, {"key_fields": _ORDER}),),
        ),
        RecordType(
            "cbec.waybill",
            "waybill (511 / 505)",
            ("logisticsCode", "logisticsNo"),
            _ORDER,
            "waybill",
            parties=(
                Party(Role.CARRIER, "logisticsCode", _CARRIES, "logistics_code", "carrier_code"),
                Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code", "ebp_code"),
            ),
            create=frozenset({Role.CARRIER}),
            change=frozenset({Role.CARRIER}),
            cancel=frozenset({Role.CARRIER}),
            links=(Link("cbec.order", _ORDER_JOIN),),
            notes=(
                "the order does not name its waybill: the carrier reads the order only "
                "through the waybill the order's inventory names",
                "one waybill number is one parcel of one order: the specification keeps a "
                "carrier's logisticsNo unique for six months, packNo is 1 and receipts "
                "(512/506) and statuses (513) name the waybill by logisticsCode + "
                "logisticsNo alone",
            ),
            exists_hint=(
                "a carrier's waybill number is one parcel of one order and is not reused "
                "within six months (CEB511/505 logisticsNo); to reuse an old number, "
                "cancel the stored waybill with appType 3 first"
            ),
            majors=(
                (
                    2,
                    {
                        # CEB505 names no order and no platform, but the seller (ebcCode);
                        # the export inventory links it by logisticsCode + logisticsNo.
                        "parties": (
                            Party(
                                Role.CARRIER,
                                "logisticsCode",
                                _CARRIES,
                                "logistics_code",
                                "carrier_code",
                            ),
                            Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code", "ebp_code"),
                            Party(Role.SELLER, "ebcCode", EVERYTHING),
                        ),
                    },
                ),
            ),
        ),
        RecordType(
            "cbec.logistics-status",
            "waybill milestone (513 / 507 / 509)",
            ("logisticsCode", "logisticsNo", "statusTime", "logisticsStatus"),
            None,
            "waybill_event",
            parties=(Party(Role.CARRIER, "logisticsCode", _CARRIES),),
            create=frozenset({Role.CARRIER}),
            change=frozenset({Role.CARRIER}),
            cancel=frozenset({Role.CARRIER}),
            links=(
                Link(
                    "cbec.waybill",
                    (("logisticsCode", "logisticsCode"), ("logisticsNo", "logisticsNo")),
                ),
            ),
            notes=("the key holds the carrier: only it writes milestones of its waybills",),
            majors=(
                (
                    2,
                    {
                        "key_fields": (
                            "logisticsCode",
                            "logisticsNo",
                            "logisticsTime",
                            "logisticsStatus",
                        )
                    },
                ),
            ),
        ),
        RecordType(
            "cbec.inventory",
            "customs inventory (621 / 603)",
            ("ebpCode", "orderNo"),
            _ORDER,
            "inventory",
            parties=(
                Party(Role.BROKER, "agentCode", _STANDS_FOR, "agent_code", "agent_code"),
                Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code", "ebp_code"),
                Party(Role.SELLER, "ebcCode", EVERYTHING, "ebc_code", "ebc_code"),
                Party(Role.GUARANTOR, "assureCode", _STANDS_FOR, "assure_code", "assure_code"),
                Party(Role.OWNER, "ownerCode", _OWNS_GOODS, "owner_code", "owner_code"),
                Party(Role.CARRIER, "logisticsCode", _NAMED_ONLY, "logistics_code"),
            ),
            create=frozenset({Role.BROKER}),
            change=frozenset({Role.BROKER}),
            cancel=frozenset({Role.BROKER, Role.PLATFORM}),
            links=(
                Link("cbec.order", _ORDER_JOIN, (("ebcCode", "ebcCode"),)),
                Link(
                    "cbec.waybill",
                    (("logisticsCode", "logisticsCode"), ("logisticsNo", "logisticsNo")),
                    (("ebpCode", "ebpCode"), ("orderNo", "orderNo")),
                ),
            ),
            notes=(
                "agentCode is the declaring enterprise (申报企业) of the specification",
                "the carrier an inventory names reads its own waybill, not the inventory",
            ),
        ),
        RecordType(
            "cbec.inventory-status",
            "customs receipt on an inventory (622 / 604)",
            ("ebpCode", "orderNo", "returnTime", "returnStatus"),
            _ORDER,
            "customs_status",
            parties=(
                Party(Role.BROKER, "agentCode", _DECLARED, "agent_code"),
                Party(Role.PLATFORM, "ebpCode", EVERYTHING, "ebp_code"),
            ),
            create=frozenset({Role.BROKER}),
            change=frozenset({Role.BROKER}),
            cancel=frozenset({Role.BROKER}),
            links=(Link("cbec.inventory", _ORDER_JOIN, (("agentCode", "agentCode"),)),),
            notes=("customs answers the broker that declared the inventory: only it relays",),
            majors=(
                (
                    2,
                    {
                        # CEB622 names the inventory by copNo (preNo, invtNo once known),
                        # not by its order; the projection finds the inventory by copNo.
                        "key_fields": (
                            "agentCode",
                            "copNo",
                            "preNo",
                            "invtNo",
                            "returnTime",
                            "returnStatus",
                        ),
                    },
                ),
            ),
        ),
        RecordType(
            "cbec.inventory-cancel",
            "inventory cancellation (623)",
            ("ebpCode", "orderNo", "invtNo"),
            _ORDER,
            "inventory_request",
            parties=_INVENTORY_PARTIES,
            create=_BROKER_ONLY,
            change=_BROKER_ONLY,
            cancel=_BROKER_ONLY,
            links=_ON_INVENTORY,
            notes=("while it stands, the inventory counts for no buyer's annual quota",),
        ),
        RecordType(
            "cbec.inventory-return",
            "inventory return (625)",
            ("ebpCode", "orderNo", "copNo"),
            _ORDER,
            "inventory_request",
            parties=_INVENTORY_PARTIES,
            create=_BROKER_ONLY,
            change=_BROKER_ONLY,
            cancel=_BROKER_ONLY,
            links=_ON_INVENTORY,
            notes=("the returned share of the dutiable value gives annual quota back",),
        ),
        RecordType(
            "cbec.arrival",
            "arrival list (507)",
            ("logisticsCode", "copNo", "msgSeqNo"),
            None,
            "passage",
            parties=(
                Party(Role.CARRIER, "logisticsCode", _CARRIES),
                Party(Role.OPERATOR, "operatorCode", _SITE),
            ),
            create=frozenset({Role.CARRIER}),
            change=frozenset({Role.CARRIER}),
            cancel=frozenset({Role.CARRIER}),
            links=(
                Link(
                    "cbec.waybill",
                    (("logisticsCode", "logisticsCode"), ("items.logisticsNo", "logisticsNo")),
                ),
            ),
            notes=("each listed logisticsNo is a waybill of the carrier the list names",),
        ),
        RecordType(
            "cbec.departure",
            "departure list (509)",
            ("logisticsCode", "copNo", "msgSeqNo"),
            None,
            "passage",
            parties=(Party(Role.CARRIER, "logisticsCode", _CARRIES),),
            create=frozenset({Role.CARRIER}),
            change=frozenset({Role.CARRIER}),
            cancel=frozenset({Role.CARRIER}),
            links=(
                Link(
                    "cbec.waybill",
                    (("logisticsCode", "logisticsCode"), ("items.logisticsNo", "logisticsNo")),
                ),
            ),
            notes=("the departure evidence is kept on each listed waybill of the carrier",),
        ),
        RecordType(
            "cbec.summary-apply",
            "summary application (701)",
            ("agentCode", "copNo", "msgSeqNo"),
            None,
            "summary",
            parties=(
                Party(Role.BROKER, "agentCode", _DECLARED, "agent_code"),
                Party(Role.SELLER, "ebcCode", EVERYTHING, "ebc_code"),
            ),
            create=_BROKER_ONLY,
            change=_BROKER_ONLY,
            cancel=_BROKER_ONLY,
        ),
        RecordType(
            "cbec.summary-result",
            "summary result (792)",
            ("agentCode", "sumNo", "msgSeqNo"),
            None,
            "summary",
            parties=(
                Party(Role.BROKER, "agentCode", _DECLARED, "agent_code"),
                Party(Role.SELLER, "ebcCode", EVERYTHING, "ebc_code"),
            ),
            create=_BROKER_ONLY,
            change=_BROKER_ONLY,
            cancel=_BROKER_ONLY,
            links=(
                Link(
                    "cbec.inventory",
                    (("invtNo", "invtNo"),),
                    (("agentCode", "agentCode"), ("ebcCode", "ebcCode")),
                ),
            ),
            notes=(
                "customs answers the broker that applied: only it relays; an inventory "
                "gains the entryId only where it names the same broker and seller",
            ),
        ),
        RecordType(
            "cbec.tax-bill",
            "electronic tax bill (816)",
            ("invtNo", "taxNo", "returnTime", "status"),
            None,
            "tax_bill",
            parties=(
                Party(Role.BROKER, "agentCode", _STANDS_FOR, "agent_code"),
                Party(Role.GUARANTOR, "assureCode", _STANDS_FOR, "assure_code"),
                Party(Role.SELLER, "ebcCode", EVERYTHING, "ebc_code"),
                Party(Role.CARRIER, "logisticsCode", _NAMED_ONLY),
            ),
            create=frozenset({Role.BROKER, Role.GUARANTOR}),
            change=frozenset({Role.BROKER, Role.GUARANTOR}),
            cancel=frozenset({Role.BROKER, Role.GUARANTOR}),
            links=(
                Link(
                    "cbec.inventory",
                    (("invtNo", "invtNo"),),
                    (
                        ("agentCode", "agentCode"),
                        ("assureCode", "assureCode"),
                        ("ebcCode", "ebcCode"),
                        ("logisticsCode", "logisticsCode"),
                    ),
                ),
            ),
            notes=(
                "customs sends the bill to the broker and the guarantor (who bears the "
                "tax): either relays it; it is shown on the inventory naming the same parties",
            ),
        ),
    )
}


def record_type(standard_id: str, major: int = 1) -> RecordType | None:
    """The record type of a standard (as its major version shapes the record), or None for
    standards the graph does not model."""
    rtype = RECORD_TYPES.get(standard_id)
    return rtype.for_major(major) if rtype is not None else None


# --- the write check ---------------------------------------------------------------------


def _roles_text(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles)) or "none"


def action_of(app_type: str) -> Action:
    """The action an `appType` asks for (unknown values are creations)."""
    try:
        return Action(app_type)
    except ValueError:
        return Action.CREATE


def check_create(
    rtype: RecordType, *, declarant: str | None, payload: Mapping[str, Any], app_type: str
) -> DeclarationIssue | None:
    """The part of the write check that needs only the new payload: the declarant must be
    named in it, in a role that may perform the declaration's action."""
    roles = rtype.roles_of(declarant, payload)
    if not roles:
        named = ", ".join(sorted(rtype.party_codes(payload))) or "none"
        return DeclarationIssue(
            DeclarationErrorCode.NOT_A_PARTY,
            f"the declaring enterprise {declarant} is not a party to this record "
            f"(parties: {named})",
        )
    action = action_of(app_type)
    allowed = rtype.allowed(action)
    if not roles & allowed:
        verb = {Action.CREATE: "declare", Action.CHANGE: "change"}.get(action, "cancel")
        return DeclarationIssue(
            DeclarationErrorCode.ROLE_NOT_ALLOWED,
            f"the declaring enterprise is the {_roles_text(roles)} of this record; "
            f"only the {_roles_text(allowed)} may {verb} a {rtype.standard_id} record",
            "/appType" if action is not Action.CREATE else "",
        )
    return None


def check_stored(
    rtype: RecordType,
    *,
    declarant: str | None,
    payload: Mapping[str, Any],
    app_type: str,
    stored: Mapping[str, Any],
) -> DeclarationIssue | None:
    """A change or cancellation against the stored record: the declarant must hold a role
    there that may do it, and the key and the parties must stay as they are. Messages never
    say who the stored parties are."""
    action = action_of(app_type)
    if action is Action.CREATE:
        return None
    allowed = rtype.allowed(action)
    if not rtype.roles_of(declarant, stored) & allowed:
        verb = "change" if action is Action.CHANGE else "cancel"
        return DeclarationIssue(
            DeclarationErrorCode.NOT_RECORD_PARTY,
            f"the stored record does not name the declaring enterprise as one that may "
            f"{verb} it ({_roles_text(allowed)})",
            "/appType",
        )
    if rtype.key_values(stored) != rtype.key_values(payload):
        return DeclarationIssue(
            DeclarationErrorCode.KEY_CHANGED,
            f"a change may not alter the record's key ({', '.join(rtype.key_fields)})",
        )
    before, after = rtype.parties_of(stored), rtype.parties_of(payload)
    changed = [p.field for p in rtype.parties if before.get(p.role) != after.get(p.role)]
    if changed:
        return DeclarationIssue(
            DeclarationErrorCode.PARTIES_CHANGED,
            "a change may not alter the record's parties; cancel it and declare a new "
            "record instead",
            f"/{changed[0]}",
        )
    return None


def check_link(
    rtype: RecordType, link: Link, *, payload: Mapping[str, Any], target: Mapping[str, Any]
) -> DeclarationIssue | None:
    """A record naming a stored target must agree with it where the target names it."""
    differing = link.disagreement(payload, target)
    if not differing:
        return None
    own = next(o for o, t in link.agree if t == differing[0])
    return DeclarationIssue(
        DeclarationErrorCode.LINK_MISMATCH,
        f"the {link.target} this record names ({', '.join(t for _, t in link.join)}) does "
        f"not name it: it differs in {', '.join(differing)}",
        f"/{own}",
    )


def namers(rtype: RecordType) -> list[tuple[RecordType, Link]]:
    """Record types of the same order that name a record of `rtype` by other fields than
    the order key (an inventory names its waybill by logisticsCode and logisticsNo), and
    that are found by the order key themselves."""
    found = []
    for other in RECORD_TYPES.values():
        link = other.link_to(rtype.standard_id)
        if link is None or other.order_fields is None or other.key_fields != other.order_fields:
            continue
        if tuple(own for own, _ in link.join) == other.order_fields:
            continue  # it names the target by the order key: no other record can differ
        found.append((other, link))
    return found


def check_named(
    rtype: RecordType,
    *,
    payload: Mapping[str, Any],
    namer: RecordType,
    link: Link,
    named_by: Mapping[str, Any],
) -> DeclarationIssue | None:
    """A record whose order's stored `namer` record (its inventory) names another record of
    this type (another waybill) is refused: the link would not be mutual."""
    named = link.target_key(named_by)
    if named is None or named == rtype.key(payload):
        return None
    return DeclarationIssue(
        DeclarationErrorCode.LINK_MISMATCH,
        f"the {namer.standard_id} of this order names another {rtype.standard_id} "
        f"({', '.join(t for _, t in link.join)})",
        f"/{link.join[0][1]}",
    )


# --- links in the graph ------------------------------------------------------------------


def choose_linked(
    link: Link,
    *,
    target: Mapping[str, Any],
    candidates: Sequence[tuple[Any, Mapping[str, Any]]],
    preferred: str | None = None,
    key_of: Any = None,
) -> Any | None:
    """The candidate (first of each pair; candidates in declaration order) that the target
    links to: one that agrees with it, the `preferred` key if it is among them, else the
    first declared. Returns None when none agrees."""
    agreeing = [c for c, payload in candidates if not link.disagreement(payload, target)]
    if not agreeing:
        return None
    if preferred is not None and key_of is not None:
        for candidate in agreeing:
            if key_of(candidate) == preferred:
                return candidate
    return agreeing[0]


def choose_group(
    order: Mapping[str, Any], candidates: Mapping[str, Sequence[Any]]
) -> dict[str, Any | None]:
    """The documents an order's group links, by record type, among stored candidates (rows
    with a `payload`, in declaration order): for each type the first declared one that
    agrees with the order; for the waybill, the one the linked inventory names if it is
    there. The graph's loaders and the matching both choose with this."""
    chosen: dict[str, Any | None] = {}
    for standard_id in ("cbec.payment", "cbec.receipt", "cbec.inventory"):
        link = RECORD_TYPES[standard_id].link_to("cbec.order")
        assert link is not None
        rows = candidates.get(standard_id, ())
        chosen[standard_id] = choose_linked(
            link, target=order, candidates=[(r, r.payload) for r in rows]
        )
    inventory = chosen["cbec.inventory"]
    to_waybill = RECORD_TYPES["cbec.inventory"].link_to("cbec.waybill")
    waybill_type = RECORD_TYPES["cbec.waybill"]
    to_order = waybill_type.link_to("cbec.order")
    assert to_waybill is not None and to_order is not None
    chosen["cbec.waybill"] = choose_linked(
        to_order,
        target=order,
        candidates=[(r, r.payload) for r in candidates.get("cbec.waybill", ())],
        preferred=to_waybill.target_key(inventory.payload) if inventory is not None else None,
        key_of=lambda r: waybill_type.key(r.payload),
    )
    return chosen


def _column_name(name: str) -> str:
    """The graph column holding a payload field (`payCode` is `pay_code`)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def field_expression(model: Any, name: str) -> ColumnElement[Any]:
    """SQL: a payload field of a graph table, by its column where it has one (`payCode` is
    `pay_code`), else read from the stored payload."""
    column = _column_name(name)
    if hasattr(model, column):
        found: ColumnElement[Any] = getattr(model, column)
        return found
    return model.payload[name].as_string()


def link_clause(link: Link, model: Any, target_model: Any) -> ColumnElement[bool]:
    """SQL: rows of `model` that agree with the `target_model` row they are joined to, as
    the link says (a pair counts only where both name it: `Link.disagreement` in SQL),
    e.g. payments whose payCode is the one their order names."""
    return and_(
        true(),
        *(
            or_(
                field_expression(target_model, theirs).is_(None),
                field_expression(target_model, theirs) == "",
                field_expression(model, own).is_(None),
                field_expression(model, own) == "",
                field_expression(model, own) == field_expression(target_model, theirs),
            )
            for own, theirs in link.agree
        ),
    )


# --- reads -------------------------------------------------------------------------------
#
# An order and the documents linked to it (payment, receipt, waybill, inventory) form its
# group. An enterprise reads the group through every party entry with an `order_column`:
# the union of those entries' reads where it is named. The order row names the platform,
# seller and payment institution itself; the other roles are found on the linked document
# (the carrier on the waybill, broker, guarantor and owner on the inventory). The SQL row
# predicate and the Python check below are both generated from these entries.

_GROUP_TYPES = ("cbec.order", "cbec.payment", "cbec.receipt", "cbec.waybill", "cbec.inventory")
_ORDER_COLUMNS = frozenset({"ebp_code", "ebc_code", "pay_code"})  # named by the order row


@dataclass(frozen=True)
class GroupEntry:
    """One way into an order's group: a party of a record type of the group."""

    standard_id: str
    party: Party

    @property
    def on_order(self) -> bool:
        """True when the order row itself names this party (no linked document needed)."""
        return self.party.order_column in _ORDER_COLUMNS


def _group_entries() -> tuple[GroupEntry, ...]:
    entries = []
    for standard_id in _GROUP_TYPES:
        for party in RECORD_TYPES[standard_id].parties:
            if party.order_column is not None and not party.reads.empty:
                entries.append(GroupEntry(standard_id, party))
    return tuple(entries)


GROUP_ENTRIES: tuple[GroupEntry, ...] = _group_entries()


def party_value(party: Party, row: Any) -> str | None:
    """The enterprise a stored row names in a party's role: its column, else its payload."""
    if party.column is not None and hasattr(type(row), party.column):
        value = getattr(row, party.column)
    else:
        value = (getattr(row, "payload", None) or {}).get(party.field)
    return str(value) if value not in (None, "") else None


def party_expression(party: Party, model: Any) -> ColumnElement[Any]:
    """SQL: the enterprise a table's rows name in a party's role (column, else payload)."""
    if party.column is not None and hasattr(model, party.column):
        column: ColumnElement[Any] = getattr(model, party.column)
        return column
    return model.payload[party.field].as_string()


def group_reads(
    code: str | None, order: Any, documents: Mapping[str, Any | None]
) -> tuple[Reads, frozenset[Role]]:
    """What enterprise `code` reads of an order's group, and the roles it plays there.

    `order` is the order row; `documents` maps a record type of the group to its linked
    row (None when there is none). The Python read check; `group_clause` is the same rule
    in SQL."""
    reads, roles = NOTHING, set()
    if not code:
        return reads, frozenset()
    for entry in GROUP_ENTRIES:
        row = order if entry.on_order else documents.get(entry.standard_id)
        if entry.standard_id in _CONFIRMED_BY_INVENTORY and not _named_by_inventory(
            row, documents.get("cbec.inventory")
        ):
            continue
        if row is not None and party_value(entry.party, row) == code:
            reads = reads | entry.party.reads
            roles.add(entry.party.role)
    return reads, frozenset(roles)


# A waybill names its order, but the order does not name its waybill: any carrier could
# file a waybill against an order number it guessed, before the real one. A carrier
# therefore reads the order only through the waybill the order's inventory names (the
# broker's word on which parcel it is), never through its own claim alone.
_CONFIRMED_BY_INVENTORY = frozenset({"cbec.waybill"})


def _named_by_inventory(waybill: Any, inventory: Any) -> bool:
    """True when the inventory names this waybill (logisticsCode + logisticsNo)."""
    if waybill is None or inventory is None:
        return False
    link = RECORD_TYPES["cbec.inventory"].link_to("cbec.waybill")
    assert link is not None
    return all(
        _field_of(inventory, own) not in (None, "")
        and _field_of(inventory, own) == _field_of(waybill, theirs)
        for own, theirs in link.join
    )


def _field_of(row: Any, name: str) -> Any:
    """A payload field of a stored row: its column where it has one, else its payload."""
    column = _column_name(name)
    if hasattr(type(row), column):
        return getattr(row, column)
    return (getattr(row, "payload", None) or {}).get(name)


def _confirmed_clause(
    standard_id: str, model: Any, models: Mapping[str, Any]
) -> ColumnElement[bool]:
    """SQL: the document rows of `standard_id` the order's inventory names (see above)."""
    if standard_id not in _CONFIRMED_BY_INVENTORY:
        return true()
    inventory = models["cbec.inventory"]
    link = RECORD_TYPES["cbec.inventory"].link_to("cbec.waybill")
    assert link is not None
    return exists().where(
        inventory.status == "ACTIVE",
        inventory.ebp_code == model.ebp_code,
        inventory.order_no == model.order_no,
        *(
            field_expression(inventory, own) == field_expression(model, theirs)
            for own, theirs in link.join
        ),
    )


def group_clause(order_model: Any, code: Any, models: Mapping[str, Any]) -> ColumnElement[bool]:
    """SQL: rows of `orders` whose group enterprise `code` reads something of. `models`
    maps a record type of the group to its table (with `ebp_code`, `order_no`, `status`)."""
    clauses: list[ColumnElement[bool]] = []
    by_document: dict[str, list[Party]] = {}
    for entry in GROUP_ENTRIES:
        if entry.on_order:
            if entry.standard_id == "cbec.order":
                clauses.append(getattr(order_model, str(entry.party.order_column)) == code)
        else:
            by_document.setdefault(entry.standard_id, []).append(entry.party)
    for standard_id, parties in by_document.items():
        model = models[standard_id]
        linked = select(model.ebp_code, model.order_no).where(
            model.status == "ACTIVE",
            or_(*(party_expression(p, model) == code for p in parties)),
            _confirmed_clause(standard_id, model, models),
        )
        clauses.append(tuple_(order_model.ebp_code, order_model.order_no).in_(linked))
    return or_(*clauses) if clauses else false()


def group_codes(order: Any, documents: Mapping[str, Any | None]) -> list[str]:
    """Every enterprise an order's group names in a role that reads it (for the access
    log: each of them sees that its record was read)."""
    codes: dict[str, None] = {}
    for entry in GROUP_ENTRIES:
        row = order if entry.on_order else documents.get(entry.standard_id)
        if entry.standard_id in _CONFIRMED_BY_INVENTORY and not _named_by_inventory(
            row, documents.get("cbec.inventory")
        ):
            continue
        if row is not None and (value := party_value(entry.party, row)):
            codes[value] = None
    return list(codes)


def document_reads(standard_id: str, code: str | None, row: Any) -> Reads:
    """What enterprise `code` reads of one document row (listed on its own)."""
    rtype = RECORD_TYPES[standard_id]
    reads = NOTHING
    if not code:
        return reads
    for party in rtype.parties:
        if party_value(party, row) == code:
            reads = reads | party.reads
    return reads


def document_codes(standard_id: str, row: Any) -> list[str]:
    """Every enterprise a document row names (for the access log)."""
    rtype = RECORD_TYPES[standard_id]
    return list(dict.fromkeys(v for p in rtype.parties if (v := party_value(p, row))))


def owner_parties(standard_id: str) -> tuple[Party, ...]:
    """The parties of a record type whose enterprise's lists show the record: those that
    read something of it."""
    return tuple(p for p in RECORD_TYPES[standard_id].parties if not p.reads.empty)


def owner_expressions(standard_id: str, model: Any) -> tuple[ColumnElement[Any], ...]:
    """SQL: what the rows of a record type's table name in the roles that list them."""
    return tuple(party_expression(p, model) for p in owner_parties(standard_id))


# --- the table as text -------------------------------------------------------------------


def _reads_text(reads: Reads) -> str:
    if reads.empty:
        return "nothing (named for the link only)"
    order = [c for c in Category if c in reads.categories]
    if reads.categories == _ALL_BUT_PERSONAL:
        text = "all but personal"
    else:
        text = ", ".join(c.value for c in order)
    if reads.personal is None:
        text += "; personal data masked"
    elif reads.personal:
        text += f"; masked {', '.join(sorted(reads.personal))}"
    return text


def _link_text(link: Link) -> str:
    agree = ", ".join(t for _, t in link.agree)
    return f"{link.target}" + (f" (agreeing on {agree})" if agree else "")


def describe_type(standard_id: str) -> str:
    """One paragraph on who writes and reads a record type (for SDL descriptions)."""
    rtype = RECORD_TYPES[standard_id]
    roles = "; ".join(f"{p.role.value} ({p.field}): {_reads_text(p.reads)}" for p in rtype.parties)
    text = (
        f"Authority ({rtype.standard_id}): created by {_roles_text(rtype.create)}, changed "
        f"by {_roles_text(rtype.change)}, cancelled by {_roles_text(rtype.cancel)}. "
        f"Parties read: {roles}."
    )
    if rtype.links:
        text += " Links to " + "; ".join(_link_text(link) for link in rtype.links) + "."
    return text


def markdown_table() -> str:
    """The authority table as Markdown, printed into the README."""
    lines = [
        "| record | role (field) | creates | changes | cancels | reads |",
        "|---|---|---|---|---|---|",
    ]
    for rtype in RECORD_TYPES.values():
        for index, party in enumerate(rtype.parties):
            record = f"`{rtype.standard_id}`" if index == 0 else ""
            marks = [
                "✓" if party.role in allowed else "–"
                for allowed in (rtype.create, rtype.change, rtype.cancel)
            ]
            lines.append(
                f"| {record} | {party.role.value} (`{party.field}`) | "
                + " | ".join(marks)
                + f" | {_reads_text(party.reads)} |"
            )
    lines.append("")
    lines.append("| record | links to | agreeing on (where the target names it) |")
    lines.append("|---|---|---|")
    for rtype in RECORD_TYPES.values():
        for link in rtype.links:
            joined = ", ".join(f"`{own}`" for own, _ in link.join)
            agree = ", ".join(f"`{own}` = `{theirs}`" for own, theirs in link.agree) or "–"
            lines.append(f"| `{rtype.standard_id}` | `{link.target}` by {joined} | {agree} |")
    for rtype in RECORD_TYPES.values():
        for namer, link in namers(rtype):
            joined = ", ".join(f"`{t}`" for _, t in link.join)
            lines.append(
                f"| `{rtype.standard_id}` | refused when the order's `{namer.standard_id}` "
                f"names another by {joined} | – |"
            )
    lines.append("")
    lines.append("| role | reads of an order and its linked documents, found on |")
    lines.append("|---|---|")
    by_role: dict[Role, tuple[Reads, list[str]]] = {}
    for entry in GROUP_ENTRIES:
        reads, where = by_role.get(entry.party.role, (NOTHING, []))
        place = "the order" if entry.on_order else f"the linked `{entry.standard_id}`"
        by_role[entry.party.role] = (
            reads | entry.party.reads,
            where if place in where else [*where, place],
        )
    for role, (reads, where) in by_role.items():
        lines.append(f"| {role.value} | {_reads_text(reads)} ({', '.join(where)}) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # `python -m hub.access.authority` prints the README section
    print(markdown_table(), end="")
