"""Plain-language diagnosis of damaged MP4/MOV files, from their top-level boxes.

FFmpeg reports a cut-short MP4 as "Invalid data found when processing input", which tells a user
nothing. An MP4 is a sequence of boxes, each starting with its size and a four-letter type; reading those
headers (a few bytes each) is enough to say "the file is cut short" or "its index is missing".

>>> describe_damage(Path("no-such-file.mp4")) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Top-level box types that mark a file as MP4/MOV/3GP (ISO base media).
_ISO_TYPES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"moof", b"styp"}


@dataclass(frozen=True)
class Box:
    kind: str
    offset: int
    size: int  # as declared; 0 means "to the end of the file"


def top_level_boxes(path: Path, max_boxes: int = 10_000) -> list[Box] | None:
    """The top-level boxes of an ISO media file, or None if `path` does not look like one."""
    try:
        fh = open(path, "rb")
    except OSError:
        return None
    boxes: list[Box] = []
    with fh:
        file_size = fh.seek(0, 2)
        pos = 0
        while pos + 8 <= file_size and len(boxes) < max_boxes:
            fh.seek(pos)
            head = fh.read(16)
            size, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if not boxes and kind not in _ISO_TYPES:
                return None
            if size == 1 and len(head) >= 16:
                size = int.from_bytes(head[8:16], "big")
            boxes.append(Box(kind.decode("latin-1"), pos, size))
            if size == 0:  # extends to the end of the file
                break
            if size < 8:
                break  # garbage; what came before is still reported
            pos += size
    return boxes or None


def describe_damage(path: Path) -> str | None:
    """A one-line explanation when an MP4/MOV file is cut short or lacks its index, else None."""
    path = Path(path)
    boxes = top_level_boxes(path)
    if boxes is None:
        return None
    file_size = path.stat().st_size
    last = boxes[-1]
    cut = last.size > 0 and last.offset + last.size > file_size
    kinds = {b.kind for b in boxes}
    if "moov" not in kinds:
        return ("the video's index (its MP4 'moov' box) is missing, so nothing in it can be decoded: the "
                "recording or copy was cut short" + ("" if cut else " or never finished"))
    if cut:
        have = file_size - last.offset
        return (f"the file is cut short: its '{last.kind}' box should hold {last.size:,} bytes but only "
                f"{have:,} are there (an interrupted recording or copy?)")
    return None
