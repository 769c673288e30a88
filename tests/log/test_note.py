"""C2SP signed notes, checkpoints and cosignatures: the spec's vector and the attacks."""

from __future__ import annotations

import base64
import hashlib

import pytest

from hub.log import merkle
from hub.log.note import (
    COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    cosigners,
    open_checkpoint,
    open_note,
    parse,
    sign,
)

# The example of c2sp.org/signed-note ("Verifier keys"): an independent known answer.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3"
    "mFXmRKuwHjG1Yu72IneyaQM=\n"
)

ORIGIN = "hub.example/log"


def test_the_spec_example_verifies_with_its_vkey():
    verifier = Verifier.parse(SPEC_VKEY)
    assert verifier.name == "example.com/foo"
    assert f"{verifier.key_id:08x}" == "530d903a"
    assert verifier.vkey == SPEC_VKEY
    note, signed_by = open_note(SPEC_NOTE, [verifier])
    assert note.text == "This is an example message.\n"
    assert signed_by == [verifier]


def test_the_spec_example_refuses_an_altered_text():
    with pytest.raises(NoteError):
        open_note(
            SPEC_NOTE.replace("example message", "exemplary message"), [Verifier.parse(SPEC_VKEY)]
        )


def test_key_id_is_the_first_four_bytes_of_sha256_of_name_newline_type_key():
    signer = Signer.generate(ORIGIN)
    digest = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + signer.public).digest()
    assert signer.verifier().key_id == int.from_bytes(digest[:4], "big")
    cosign = hashlib.sha256(ORIGIN.encode() + b"\n\x04" + signer.public).digest()
    assert signer.verifier(COSIGNATURE_V1).key_id == int.from_bytes(cosign[:4], "big")


def test_a_vkey_with_a_wrong_id_is_refused():
    name, _, material = SPEC_VKEY.split("+")
    with pytest.raises(NoteError):
        Verifier.parse(f"{name}+530d903b+{material}")
    with pytest.raises(NoteError):
        Verifier.parse("no-plus-signs")


def _checkpoint(size: int = 5) -> Checkpoint:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(size)]
    _, root = merkle.append(0, {}, leaves)
    return Checkpoint(ORIGIN, size, root)


def test_a_signed_checkpoint_round_trips():
    signer = Signer.generate(ORIGIN)
    checkpoint = _checkpoint()
    text = sign(checkpoint.text(), signer)
    lines = text.split("\n")
    assert lines[0] == ORIGIN and lines[1] == "5"
    assert base64.b64decode(lines[2]) == checkpoint.root
    assert lines[3] == "" and lines[4].startswith("— " + ORIGIN + " ")
    opened, _ = open_checkpoint(text, origin=ORIGIN, log_key=signer.verifier())
    assert opened == checkpoint


def test_a_checkpoint_signed_by_another_key_is_refused():
    signer, impostor = Signer.generate(ORIGIN), Signer.generate(ORIGIN)
    text = sign(_checkpoint().text(), impostor)
    with pytest.raises(NoteError):  # same name, other key id: not a known key at all
        open_checkpoint(text, origin=ORIGIN, log_key=signer.verifier())


def test_a_forged_signature_under_the_right_key_id_is_refused():
    signer, impostor = Signer.generate(ORIGIN), Signer.generate(ORIGIN)
    text = _checkpoint().text()
    forged_blob = signer.verifier().key_id.to_bytes(4, "big") + impostor.private.sign(text.encode())
    forged = text + "\n— " + ORIGIN + " " + base64.b64encode(forged_blob).decode() + "\n"
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(forged, origin=ORIGIN, log_key=signer.verifier())


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("\n5\n", "\n6\n", 1),  # another size
        lambda t: t.replace(ORIGIN + "\n", ORIGIN + "x\n", 1),  # another origin line
        lambda t: t.replace("\n\n", "\nextension\n\n", 1),  # an added extension line
        # A changed signature byte: a character well inside the base64 (the last one before
        # the padding may carry only padding bits, which decode to the same bytes).
        lambda t: t[:-20] + ("A" if t[-20] != "A" else "B") + t[-19:],
    ],
)
def test_an_altered_checkpoint_is_refused(change):
    signer = Signer.generate(ORIGIN)
    text = change(sign(_checkpoint().text(), signer))
    with pytest.raises(NoteError):
        open_checkpoint(text, origin=ORIGIN, log_key=signer.verifier())


def test_a_checkpoint_of_another_origin_is_refused_even_if_signed():
    signer = Signer.generate(ORIGIN)
    other = Checkpoint("other.example/log", 5, _checkpoint().root)
    with pytest.raises(NoteError, match="not"):
        open_checkpoint(sign(other.text(), signer), origin=ORIGIN, log_key=signer.verifier())


@pytest.mark.parametrize(
    "text",
    [
        "hub.example/log\n05\nAAAA\n",  # leading zero
        "hub.example/log\n-1\n" + base64.b64encode(b"x" * 32).decode() + "\n",
        "hub.example/log\n5\n" + base64.b64encode(b"x" * 31).decode() + "\n",  # short root
        "hub.example/log\n5\n",  # no root
        "hub.example/log\n5\n!!!!\n",  # not base64
    ],
)
def test_malformed_checkpoint_text_is_refused(text):
    with pytest.raises(NoteError):
        Checkpoint.parse_text(text)


@pytest.mark.parametrize(
    "message",
    [
        "no signatures\n",
        "text\n\nnot a signature line\n",
        "text\n\n— name notbase64!\n",
        "text\x07\n\n— name AAAAAAAA\n",  # a control character
        "text\n\n— name AAAAAAAA",  # no final newline
        b"\xff\xfe\n\n\xe2\x80\x94 name AAAAAAAA\n",  # not UTF-8
    ],
)
def test_malformed_notes_are_refused(message):
    with pytest.raises(NoteError):
        parse(message)


def test_unknown_signatures_are_ignored_and_cosignatures_verify():
    log = Signer.generate(ORIGIN)
    customs, tax = Signer.generate("customs.example/w"), Signer.generate("tax.example/w")
    text = _checkpoint().text()
    signed = sign(text, log)
    cosigned = signed + customs.cosign_line(text, 1_700_000_000) + tax.cosign_line(text, 17)
    checkpoint, note = open_checkpoint(cosigned, origin=ORIGIN, log_key=log.verifier())
    assert checkpoint.size == 5
    witnesses = [customs.verifier(COSIGNATURE_V1), tax.verifier(COSIGNATURE_V1)]
    assert cosigners(note, witnesses) == witnesses
    # A note key is not a cosignature key: the same key with type 0x01 matches nothing.
    assert cosigners(note, [customs.verifier()]) == []


def test_a_cosignature_over_another_checkpoint_is_refused():
    log = Signer.generate(ORIGIN)
    customs = Signer.generate("customs.example/w")
    text, other = _checkpoint(5).text(), _checkpoint(6).text()
    moved = sign(text, log) + customs.cosign_line(other, 1_700_000_000)
    _, note = open_checkpoint(moved, origin=ORIGIN, log_key=log.verifier())
    with pytest.raises(NoteError):
        cosigners(note, [customs.verifier(COSIGNATURE_V1)])


def test_a_cosignature_with_an_altered_timestamp_is_refused():
    log = Signer.generate(ORIGIN)
    customs = Signer.generate("customs.example/w")
    text = _checkpoint().text()
    line = customs.cosign_line(text, 1_700_000_000)
    name, encoded = line[2:].split(" ")
    blob = bytearray(base64.b64decode(encoded))
    blob[11] ^= 1  # the low byte of the timestamp
    forged = f"— {name} {base64.b64encode(bytes(blob)).decode()}\n"
    _, note = open_checkpoint(sign(text, log) + forged, origin=ORIGIN, log_key=log.verifier())
    with pytest.raises(NoteError):
        cosigners(note, [customs.verifier(COSIGNATURE_V1)])


def test_signer_round_trips_through_its_seed():
    signer = Signer.generate(ORIGIN)
    again = Signer.from_seed(ORIGIN, signer.seed)
    assert again.public == signer.public
    text = _checkpoint().text()
    open_note(sign(text, again), [signer.verifier()])
