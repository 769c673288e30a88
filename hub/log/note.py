"""C2SP signed notes, checkpoints and cosignatures (Ed25519). Pure, no server imports.

- signed-note: a text ending in a newline, a blank line, then lines
  `— <key name> base64(key id (4 bytes, big endian) || signature)`; the Ed25519 key id
  is SHA-256(name || 0x0A || 0x01 || public key)[:4] and the signature covers the text.
- tlog-checkpoint: the text is `origin`, `tree size` (decimal), `base64 root` (+ optional
  extension lines).
- tlog-cosignature/v1: signature type 0x04; the signature is a big-endian u64 timestamp
  followed by an Ed25519 signature over "cosignature/v1\\ntime <ts>\\n" + the checkpoint text.

Verification follows the spec: signatures from unknown keys are ignored; a known key whose
signature fails makes the whole note refused; a note with no verified known signature is
refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 64
MAX_NOTE_BYTES = 1 << 16
_DASH = "\u2014 "


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed, or whose signatures do not verify."""


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def key_id(name: str, sig_type: int, public: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Verifier:
    """A public key that checks one kind of signature: note (0x01) or cosignature (0x04)."""

    name: str
    sig_type: int
    public: bytes

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise NoteError(f"invalid key name {self.name!r}")
        if self.sig_type not in (ED25519, COSIGNATURE_V1) or len(self.public) != 32:
            raise NoteError("only Ed25519 note and cosignature keys are supported")

    @property
    def key_id(self) -> int:
        """The key id signatures carry."""
        return key_id(self.name, self.sig_type, self.public)

    @property
    def vkey(self) -> str:
        """`name+hex(key id)+base64(type || public key)` (signed-note verifier key)."""
        material = base64.b64encode(bytes([self.sig_type]) + self.public).decode()
        return f"{self.name}+{self.key_id:08x}+{material}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Reads a vkey string; refuses one whose id does not match its key."""
        # The key material is base64, which may hold "+": only the first two split.
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is name+id+key")
        name, hex_id, material = parts
        try:
            raw = base64.b64decode(material, validate=True)
            expected = int(hex_id, 16)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("the verifier key is not hex and base64") from exc
        if len(hex_id) != 8 or not raw:
            raise NoteError("the verifier key id is 8 hex digits")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.key_id != expected:
            raise NoteError("the verifier key id does not match its key")
        return verifier

    def _check(self, message: bytes, signature: bytes) -> None:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature as exc:
            raise NoteError(f"the signature of {self.name} does not verify") from exc


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key with the name it signs under."""

    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A fresh key."""
        if not _valid_name(name):
            raise NoteError(f"invalid key name {name!r}")
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        """The key stored as its 32-byte seed."""
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed (what the store keeps)."""
        return self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public(self) -> bytes:
        """The 32-byte public key."""
        return _raw_public(self.private.public_key())

    def verifier(self, sig_type: int = ED25519) -> Verifier:
        """Its public half, for notes (0x01) or for cosignatures (0x04)."""
        return Verifier(self.name, sig_type, self.public)

    def sign_line(self, text: str) -> str:
        """The signature line of a note over `text`."""
        signature = self.private.sign(text.encode())
        blob = struct.pack(">I", self.verifier().key_id) + signature
        return f"{_DASH}{self.name} {base64.b64encode(blob).decode()}\n"

    def cosign_line(self, text: str, timestamp: int) -> str:
        """The tlog-cosignature/v1 line over checkpoint text at a POSIX time."""
        signature = self.private.sign(_cosigned_message(text, timestamp))
        blob = struct.pack(">IQ", self.verifier(COSIGNATURE_V1).key_id, timestamp) + signature
        return f"{_DASH}{self.name} {base64.b64encode(blob).decode()}\n"


def _cosigned_message(text: str, timestamp: int) -> bytes:
    if not 0 <= timestamp < 1 << 63:
        raise NoteError("a cosignature timestamp is a POSIX time below 2^63")
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def sign(text: str, signer: Signer) -> str:
    """A signed note: the text, a blank line, one signature line."""
    _check_text(text)
    return text + "\n" + signer.sign_line(text)


@dataclass(frozen=True)
class Signature:
    """One signature line as read: name, key id and the signature bytes after it."""

    name: str
    key_id: int
    blob: bytes
    line: str


@dataclass(frozen=True)
class Note:
    """A parsed signed note (signatures not yet verified)."""

    text: str
    signatures: tuple[Signature, ...]


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("the note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("the note holds a control character")


def parse(message: str | bytes) -> Note:
    """Splits a signed note into text and signature lines; refuses a malformed one."""
    if isinstance(message, bytes):
        if len(message) > MAX_NOTE_BYTES:
            raise NoteError("the note is too large")
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("the note is not UTF-8") from exc
    if len(message.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    if any(ord(c) < 0x20 and c != "\n" for c in message) or not message.endswith("\n"):
        raise NoteError("the note holds a control character or lacks its final newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no signatures")
    text, block = message[: split + 1], message[split + 2 :]
    signatures = []
    for line in block.split("\n")[:-1]:
        if not line.startswith(_DASH):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(_DASH) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError("a signature is not base64") from exc
        if not _valid_name(name) or len(blob) < 5:
            raise NoteError("a signature line has a bad name or a short signature")
        signatures.append(Signature(name, int.from_bytes(blob[:4], "big"), blob[4:], line + "\n"))
    if not signatures:
        raise NoteError("the note has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError("the note has too many signatures")
    return Note(text, tuple(signatures))


def open_note(message: str | bytes, verifiers: list[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parses and verifies a note; returns it with the known keys that signed it.

    Raises NoteError on a bad signature from a known key, or when no known key signed.
    """
    note = parse(message)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue  # unknown keys are ignored (witnesses, rotated keys)
        if verifier.sig_type == ED25519:
            if len(signature.blob) != 64:
                raise NoteError(f"the signature of {verifier.name} has the wrong length")
            verifier._check(note.text.encode(), signature.blob)
        else:
            if len(signature.blob) != 72:
                raise NoteError(f"the cosignature of {verifier.name} has the wrong length")
            (timestamp,) = struct.unpack(">Q", signature.blob[:8])
            verifier._check(_cosigned_message(note.text, timestamp), signature.blob[8:])
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        raise NoteError("no known key signed the note")
    return note, verified


def cosignature_time(signature: Signature) -> int:
    """The POSIX time a cosignature line carries."""
    if len(signature.blob) != 72:
        raise NoteError("not a cosignature")
    return int(struct.unpack(">Q", signature.blob[:8])[0])


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size, root (and extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint's note text."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        """Reads checkpoint note text (tlog-checkpoint); refuses a malformed one."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint has three or more non-empty lines")
        origin, size_text, root_text = lines[:3]
        if not size_text.isascii() or not size_text.isdigit():
            raise NoteError("the checkpoint size is not a decimal number")
        if len(size_text) > 1 and size_text[0] == "0":
            raise NoteError("the checkpoint size has a leading zero")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error as exc:
            raise NoteError("the checkpoint root is not base64") from exc
        if len(root) != 32:
            raise NoteError("the checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size_text), root, tuple(lines[3:-1]))


def open_checkpoint(
    message: str | bytes, *, origin: str, log_key: Verifier
) -> tuple[Checkpoint, Note]:
    """Verifies a signed checkpoint from the log `origin` signed by `log_key`."""
    note, _ = open_note(message, [log_key])
    checkpoint = Checkpoint.parse_text(note.text)
    if checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is from {checkpoint.origin!r}, not {origin!r}")
    return checkpoint, note


def cosigners(note: Note, witnesses: list[Verifier]) -> list[Verifier]:
    """The witnesses (cosignature keys) whose cosignatures on the note verify."""
    try:
        _, verified = open_note(
            note.text + "\n" + "".join(s.line for s in note.signatures), witnesses
        )
    except NoteError as exc:
        if str(exc) == "no known key signed the note":
            return []
        raise
    return verified
