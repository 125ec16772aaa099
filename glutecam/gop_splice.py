"""Replace groups of pictures (GOPs) of an H.264 MP4 with the same frames encoded again, without re-encoding
the rest: the packets are copied (remuxed), which takes milliseconds.

Valid for clips written by `H264Writer(keyint=G)`: libx264 with a keyframe exactly every G frames and closed
GOPs (no scene-cut keyframes, no frame referring across a keyframe), so GOP k is frames kG .. kG+G-1, and its
packets come in a block of the decoding order, keyframe first. A replacement run (GOPs a .. b) is its own file,
written by a fresh `H264Writer` with the same settings from frame aG on: its parameter sets are then the
clip's, and its timestamps (those of the frames it replaces) continue the clip's. Anything else is refused
with `SpliceError` (the caller then encodes the whole clip again).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


class SpliceError(RuntimeError):
    """The files cannot be spliced (not GOP-aligned, other encoder settings, unreadable)."""


def _gops(path: Path, keyint: int) -> Iterator[list]:
    """The file's video packets, one list a GOP (keyframe first), in decoding order; the container stays open
    while iterating."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        gop: list = []
        for packet in container.demux(stream):
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            if packet.is_keyframe and gop:
                yield gop
                gop = []
            if not gop and not packet.is_keyframe:
                raise SpliceError(f"{path}: a group of pictures does not start with a keyframe")
            gop.append(packet)
            if len(gop) > keyint:
                raise SpliceError(f"{path}: a group of pictures longer than {keyint} frames")
        if gop:
            yield gop


def splice_gops(main: Path, out: Path, keyint: int, runs: dict[int, Path] | None = None,
                keep_gops: int | None = None) -> Path:
    """Write `out`: `main`'s GOPs, where each run in `runs` (first GOP index: file) replaces as many GOPs as
    it holds, and only the first `keep_gops` GOPs if given. Returns `out`. Raises SpliceError."""
    import av

    runs = dict(runs or {})
    opened = []
    try:
        src = av.open(str(main))
        opened.append(src)
        template = src.streams.video[0]
        extradata = bytes(template.codec_context.extradata or b"")
        replacement: dict[int, list] = {}
        for first, path in runs.items():
            other = av.open(str(path))
            opened.append(other)
            if bytes(other.streams.video[0].codec_context.extradata or b"") != extradata:
                raise SpliceError(f"{path}: encoded with other settings than {main}")
            for k, gop in enumerate(_gops(path, keyint)):
                replacement[first + k] = gop
        with av.open(str(out), mode="w", options={"movflags": "+faststart"}) as dst:
            stream = dst.add_stream_from_template(template)
            for k, gop in enumerate(_gops(main, keyint)):
                if keep_gops is not None and k >= keep_gops:
                    break
                new = replacement.pop(k, None)
                if new is not None and len(new) != len(gop):
                    raise SpliceError(f"GOP {k}: {len(new)} frames to replace {len(gop)}")
                for packet in new if new is not None else gop:
                    packet.stream = stream
                    dst.mux(packet)
        if replacement and keep_gops is None:
            raise SpliceError(f"GOPs {sorted(replacement)} are not in {main}")
    except SpliceError:
        Path(out).unlink(missing_ok=True)
        raise
    except (OSError, ValueError, av.FFmpegError) as exc:
        Path(out).unlink(missing_ok=True)
        raise SpliceError(f"cannot splice {main}: {exc}") from exc
    finally:
        for c in opened:
            c.close()
    return Path(out)
