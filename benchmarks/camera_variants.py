"""Camera changes of a folder of rendered clips with ground truth, to check the measures on cameras they were
not tuned on.

    python benchmarks/camera_variants.py ../shared/synth_dev /tmp/variants            # all variants
    python benchmarks/camera_variants.py ../shared/synth_dev /tmp/variants mirror small60
    python benchmarks/validate.py /tmp/variants/mirror --tracks-cache /tmp/variants/cache_mirror --per-rep

Each variant is an ffmpeg filter (libx264, CRF 18, every frame kept) and the same map applied to the ground
truth's image points (`joints_2d`). `copy` re-encodes only, so it shows what re-encoding alone changes.
`mirror` shows a body whose left and right are swapped: the working and free sides are swapped in `meta`,
a side camera becomes the other side's, and `_L`/`_R` joints are relabelled; the truth's free-side angles
(`pelvic_drop_free_side_deg`, ...) stay as they are. `portrait` is a phone held upright: a 9:16 strip of the
picture around the person (their joints' median x), scaled to 720x1280. `zoom130` and `portrait` skip clips
whose joints would leave the picture.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

MARGIN_PX = 10.0
GREY = "0x808080"


def variants(w: int, h: int) -> dict[str, tuple[np.ndarray, tuple[int, int], str]]:
    """name -> (2x3 map of image points, output size, ffmpeg -vf filter)."""
    def zoom(s: float):
        sw, sh = round(w * s), round(h * s)
        ox, oy = (sw - w) // 2, (sh - h) // 2
        return np.array([[s, 0, -ox], [0, s, -oy]]), (w, h), f"scale={sw}:{sh},crop={w}:{h}:{ox}:{oy}"

    def shrink(s: float):
        sw, sh = round(w * s), round(h * s)
        ox, oy = (w - sw) // 2, (h - sh) // 2
        return np.array([[s, 0, ox], [0, s, oy]]), (w, h), f"scale={sw}:{sh},pad={w}:{h}:{ox}:{oy}:color={GREY}"

    th = math.radians(5.0)  # ffmpeg's rotate turns clockwise on screen (y down)
    c, s = math.cos(th), math.sin(th)
    roll = np.array([[c, -s, w / 2 - c * w / 2 + s * h / 2], [s, c, h / 2 - s * w / 2 - c * h / 2]])
    shift = 3 * w // 16  # 120 px of a 640 px picture
    return {
        "copy": (np.array([[1.0, 0, 0], [0, 1, 0]]), (w, h), "null"),
        "mirror": (np.array([[-1.0, 0, w], [0, 1, 0]]), (w, h), "hflip"),
        "zoom130": zoom(1.3),
        "small60": shrink(0.6),
        "roll5": (roll, (w, h), f"rotate=5*PI/180:fillcolor={GREY}"),
        "offcentre": (np.array([[1.0, 0, -shift], [0, 1, 0]]), (w, h),
                      f"crop={w - shift}:{h}:{shift}:0,pad={w}:{h}:0:0:color={GREY}"),
        "hd": (np.array([[2.0, 0, 0], [0, 2, 0]]), (2 * w, 2 * h), f"scale={2 * w}:{2 * h}"),
    }


def portrait(w: int, h: int, centre_x: float) -> tuple[np.ndarray, tuple[int, int], str]:
    """A 9:16 strip of the picture centred on `centre_x` (px, kept inside it), scaled to 720x1280."""
    cw = round(h * 9 / 16)
    ox = int(min(max(round(centre_x - cw / 2), 0), w - cw))
    s = 1280 / h
    return np.array([[s, 0, -ox * s], [0, s, 0]]), (720, 1280), f"crop={cw}:{h}:{ox}:0,scale=720:1280"


def _swap(name: str) -> str:
    return name[:-1] + {"L": "R", "R": "L"}[name[-1]] if name[-2:] in ("_L", "_R") else name


def transformed_truth(data: dict, name: str, a: np.ndarray) -> dict:
    """The ground truth as the transformed picture shows it (see the module docstring)."""
    d = copy.deepcopy(data)
    meta = d["meta"]
    mirror = name == "mirror"
    if mirror:
        other = {"L": "R", "R": "L"}
        meta["working_side"], meta["free_side"] = other[meta["working_side"]], other[meta["free_side"]]
        cam = meta.get("camera", {})
        cam["view"] = {"left": "right", "right": "left"}.get(cam.get("view"), cam.get("view"))
    for f in d["frames"]:
        joints = f.get("joints_2d") or {}
        f["joints_2d"] = {(_swap(k) if mirror else k): [float(v) for v in a @ np.array([x, y, 1.0])]
                          for k, (x, y) in joints.items()}
    meta["variant"] = {"name": name, "image_map_2x3": a.tolist()}
    return d


def inside(d: dict, size: tuple[int, int]) -> bool:
    """Every image joint at least MARGIN_PX inside the picture."""
    pts = np.array([xy for f in d["frames"] for xy in f["joints_2d"].values()] or [[MARGIN_PX, MARGIN_PX]])
    return bool((pts >= MARGIN_PX).all() and (pts[:, 0] <= size[0] - MARGIN_PX).all()
                and (pts[:, 1] <= size[1] - MARGIN_PX).all())


def main(argv: list[str] | None = None) -> int:
    import av
    import imageio_ffmpeg

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="a folder of NAME.mp4 + NAME.json (shared/synth_dev's format)")
    ap.add_argument("out", type=Path, help="writes OUT/VARIANT/NAME.mp4 + NAME.json")
    ap.add_argument("names", nargs="*", help="variants (default: all)")
    args = ap.parse_args(argv)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    clips = sorted(p for p in args.src.glob("*.json") if p.with_suffix(".mp4").is_file())
    if not clips:
        print(f"{args.src}: no NAME.mp4 + NAME.json pairs", file=sys.stderr)
        return 2
    for clip in clips:
        data = json.loads(clip.read_text())
        with av.open(str(clip.with_suffix(".mp4"))) as video:
            ctx = video.streams.video[0].codec_context
            table = variants(ctx.width, ctx.height)
            xs = [xy[0] for f in data["frames"] for xy in (f.get("joints_2d") or {}).values()]
            table["portrait"] = portrait(ctx.width, ctx.height, float(np.median(xs)) if xs else ctx.width / 2)
        for name in args.names or list(table):
            a, out_size, vf = table[name]
            d = transformed_truth(data, name, a)
            if name.startswith(("zoom", "portrait")) and not inside(d, out_size):
                print(f"{name}/{clip.stem}: skipped (the person would leave the picture)")
                continue
            folder = args.out / name
            folder.mkdir(parents=True, exist_ok=True)
            subprocess.run([ffmpeg, "-y", "-v", "error", "-i", str(clip.with_suffix(".mp4")), "-vf", vf, "-an",
                            "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", "-fps_mode", "passthrough",
                            str(folder / f"{clip.stem}.mp4")], check=True)
            (folder / clip.name).write_text(json.dumps(d))
            print(f"{name}/{clip.stem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
