"""One spelling per path. The gateway decides on the normalised path and forwards exactly that,
so a service never sees a spelling the gateway did not route (`/%69nternal`, `/a/../internal`,
`//internal`, `/INTERNAL.`). What could be read two ways is refused instead of guessed:
encoded slashes, backslashes, NUL and other control characters, double encoding (`%25`),
`;` path parameters, segments with trailing dots or spaces, and `..` above the root.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote_to_bytes

# Bytes a request target may carry as they are; anything else takes the careful path.
_UNSAFE_BYTE = re.compile(rb"[^A-Za-z0-9/\-_.~!$&'()*+,=:@]")
# Refused outright: would decode to a separator, NUL or a second round of escapes, or is a
# separator some servers honour (backslash, `;` parameters).
_AMBIGUOUS = re.compile(rb"%(?:2f|5c|00|25)|[\\;]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters kept unescaped when the normalised path is forwarded.
_FORWARD_SAFE = "/-_.~!$&'()*+,=:@"


class PathRejected(ValueError):
    """The path could mean more than one thing; the message is safe to show."""


def normalize_path(raw: bytes) -> tuple[str, bytes]:
    """The decoded, normalised path and the request target to forward for it."""
    if (
        _UNSAFE_BYTE.search(raw) is None
        and b"//" not in raw
        and b"/." not in raw
        and b"./" not in raw
        and not raw.endswith(b".")
        and raw.startswith(b"/")
    ):
        return raw.decode("ascii"), raw
    return _normalize_slowly(raw)


def _normalize_slowly(raw: bytes) -> tuple[str, bytes]:
    if not raw.startswith(b"/"):
        raise PathRejected("the request target must be an absolute path")
    if _AMBIGUOUS.search(raw):
        raise PathRejected(
            "encoded slashes, backslashes, NUL, double encoding and ';' are not accepted in paths"
        )
    if any(byte > 0x7E or byte < 0x21 for byte in raw):
        raise PathRejected("the path has characters that must be percent-encoded")
    try:
        decoded = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PathRejected("the path is not valid UTF-8 once decoded") from exc
    if _CONTROL.search(decoded):
        raise PathRejected("the path has control characters")
    segments: list[str] = []
    parts = decoded.split("/")
    for part in parts[1:]:
        if part in ("", "."):
            continue
        if part == "..":
            if not segments:
                raise PathRejected("the path climbs above the root")
            segments.pop()
            continue
        if part.endswith((".", " ")):
            raise PathRejected("path segments may not end with a dot or a space")
        segments.append(part)
    path = "/" + "/".join(segments)
    if segments and (parts[-1] in ("", ".", "..")):
        path += "/"
    return path, quote(path, safe=_FORWARD_SAFE).encode("ascii")


def is_internal(path: str) -> bool:
    """Whether a normalised path is in `/internal/**`, in any case or Unicode look-alike."""
    first = path[1:].split("/", 1)[0]
    if first.isascii():
        return first.lower() == "internal"
    return unicodedata.normalize("NFKC", first).casefold() == "internal"
