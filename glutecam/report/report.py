"""`report.html`: everything a coach needs to review one run, in one self-contained page.

The page holds its styles, script, timeline (inline SVG) and stills (inline JPEG) itself; the only other
file it uses is the clip beside it (`annotated.mp4`, by relative path), so the output folder can be zipped,
mailed and opened offline. Every text that comes from a file or a user (clip names, messages, warnings)
goes through Jinja2's autoescaping, and data for the script through `tojson`, which escapes `<`, `>`, `&`.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from glutecam.accuracy import accuracy_text
from glutecam.files import write_text_atomic
from glutecam.report.run import (KEY_MEASURES, LOWER_IS_WORSE, MEASURES, NEGATIVE_CODES, RANGE_MEASURE, Run,
                                 fault_badness, fault_measure, load_run, measure_label, rep_measure)
from glutecam.thumbnails import STILL_WIDTH, NearestPicker, thumbnail_jpeg

# Timeline geometry, in SVG user units (the SVG scales to the page width).
WIDTH, LEFT, RIGHT, PANEL_H, GAP, TOP = 1000, 64, 12, 110, 30, 36
MAX_POINTS = 2500  # per series; longer clips are decimated for drawing only


def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("glutecam.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_num
    return env


def fmt_num(v: Any, spec: str = ".1f", signed: bool = False) -> str:
    """A number for display; en dash when missing."""
    if v is None:
        return "–"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return "–"
    return format(x, ("+" if signed else "") + spec)


def href(target: Path, page_dir: Path) -> str:
    """A relative URL from a page in `page_dir` to `target` (URL-quoted; works from file:// and http://)."""
    try:
        rel = os.path.relpath(Path(target).resolve(), Path(page_dir).resolve())
    except ValueError:  # another drive on Windows: no relative path exists
        return Path(target).resolve().as_uri()
    return quote(Path(rel).as_posix())


# -- timeline -----------------------------------------------------------------------------------------------

def _nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 6) for i in range(int((hi - start) / step) + 1)]


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    """An SVG path through the finite points; gaps (NaN) break the line."""
    parts, pen_down = [], False
    for x, y in zip(xs, ys):
        if not (math.isfinite(x) and math.isfinite(y)):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    return " ".join(parts)


def _threshold_lines(run: Run, col: str, thresholds: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    codes = list(MEASURES[col][1])
    if RANGE_MEASURE.get(run.exercise or "") == col:
        codes.append("short_range")
    lines = []
    for code in codes:
        t = thresholds.get(code)
        if not t or t.get("enabled") is False or t.get("threshold") is None:
            continue
        sign = -1.0 if code in NEGATIVE_CODES else 1.0
        for kind in ("threshold", "major"):
            v = t.get(kind)
            if v is None:
                continue
            word = "target" if code in LOWER_IS_WORSE else "limit"
            lines.append({"value": sign * float(v), "kind": kind, "word": word,
                          "label": f"{code.replace('_', ' ')} {word}{' (major)' if kind == 'major' else ''} "
                                   f"{sign * float(v):+.0f}°"})
    return lines


def build_timeline(run: Run, thresholds: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Panels (one per measure with data), rep bands and fault markers, in SVG coordinates."""
    t = run.frames.get("time_s")
    if t is None or not len(t):
        return None
    t_end = max(run.duration_s, max((r["end_s"] for r in run.reps), default=0.0), 1e-3)
    plot_w = WIDTH - LEFT - RIGHT

    def x_of(v: float | np.ndarray) -> Any:
        return LEFT + plot_w * np.asarray(v, dtype=float) / t_end

    exercise = run.exercise or ""
    cols = (["pelvic_drop_deg", "pelvis_rotation_deg", *KEY_MEASURES.get(exercise, ())]
            if run.set is not None else ["pelvis_obliquity_deg"])
    step = max(1, len(t) // MAX_POINTS)
    panels, missing = [], []
    placed_faults: set[int] = set()
    all_faults = [(i, r, f) for i, r in enumerate(run.reps) for f in (r.get("faults") or [])]
    for col in cols:
        vals = run.frames.get(col)
        if vals is None or not np.isfinite(vals).any():
            missing.append(col)
            continue
        lines = _threshold_lines(run, col, thresholds)
        finite = vals[np.isfinite(vals)]
        lo = min(float(finite.min()), 0.0, *(ln["value"] for ln in lines))
        hi = max(float(finite.max()), 0.0, *(ln["value"] for ln in lines))
        pad = max((hi - lo) * 0.08, 1.0)
        lo, hi = lo - pad, hi + pad
        top = TOP + len(panels) * (PANEL_H + GAP)

        def y_of(v: Any, top=top, lo=lo, hi=hi) -> Any:
            return top + PANEL_H - (np.asarray(v, dtype=float) - lo) / (hi - lo) * PANEL_H

        markers = []
        for k, (ri, rep, f) in enumerate(all_faults):
            if fault_measure(f["code"], exercise) != col or f.get("at_s") is None:
                continue
            at = float(f["at_s"])
            v = float(np.interp(at, t[np.isfinite(vals)], finite)) if finite.size else math.nan
            if not math.isfinite(v):
                v = float(f.get("value") or 0.0)
            markers.append(_marker(f, rep, float(x_of(at)), float(np.clip(y_of(v), top, top + PANEL_H))))
            placed_faults.add(k)
        panels.append({
            "label": MEASURES.get(col, (col, ()))[0], "column": col, "top": top, "bottom": top + PANEL_H,
            "path": _path(x_of(t[::step]), y_of(vals[::step])),
            "zero_y": float(y_of(0.0)),
            "ticks": [{"y": float(y_of(v)), "label": f"{v:g}°"} for v in _nice_ticks(lo, hi)],
            "thresholds": [{**ln, "y": float(y_of(ln["value"]))} for ln in lines],
            "faults": markers,
        })
    if not panels:
        return {"panels": [], "missing": missing, "height": 0}
    # Faults on no drawn measure (tempo, or a measure without data) go on the first panel's top edge.
    for k, (ri, rep, f) in enumerate(all_faults):
        if k not in placed_faults and f.get("at_s") is not None:
            panels[0]["faults"].append(_marker(f, rep, float(x_of(float(f["at_s"]))), panels[0]["top"] + 6))
    height = TOP + len(panels) * (PANEL_H + GAP)
    reps = [{"x": float(x_of(r["start_s"])), "w": max(float(x_of(r["end_s"]) - x_of(r["start_s"])), 1.0),
             "label": str(r["index"]), "start_s": float(r["start_s"]), "verdict": r.get("verdict", "good")}
            for r in run.reps]
    ticks = [{"x": float(x_of(v)), "label": f"{v:g} s"} for v in _nice_ticks(0.0, t_end, 8)]
    return {"width": WIDTH, "height": height, "left": LEFT, "right": WIDTH - RIGHT, "t_end": t_end,
            "panels": panels, "reps": reps, "time_ticks": ticks, "missing": missing, "panel_h": PANEL_H}


def _marker(f: dict[str, Any], rep: dict[str, Any], x: float, y: float) -> dict[str, Any]:
    return {"x": x, "y": y, "at_s": float(f["at_s"]), "severity": f.get("severity", "minor"),
            "title": f"rep {rep['index']}: {fault_text(f)} at {float(f['at_s']):.2f} s"}


def fault_text(f: dict[str, Any]) -> str:
    word = "below" if f.get("code") in LOWER_IS_WORSE else "beyond"
    return (f"{str(f.get('code', '?')).replace('_', ' ')} {fmt_num(f.get('value'))} "
            f"({f.get('severity', 'minor')}; {word} {fmt_num(f.get('threshold'))})")


# -- stills -------------------------------------------------------------------------------------------------

#: True: grab the stills from the clip; False: none; a sequence: the JPEGs already taken, one per rep.
Stills = bool | Sequence[bytes | None]


def _nearest_frames(video: Path, times_s: list[float], convert: Callable[[np.ndarray], Any] = lambda im: im) -> list:
    """`convert(image)` of the upright BGR frame nearest each time (earlier one on a tie), in `VideoFileSource`'s
    time (from the first frame). Decodes up to the last time but converts only the frames chosen: converting
    every frame of a 1080p clip took seconds, as long as a tenth of the pose pass. `convert` runs as each frame
    is chosen, so a long clip's many stills are never all held at full size."""
    import av

    from glutecam.sources import SourceError, _rotate

    try:
        container = av.open(str(video), metadata_errors="ignore")
    except Exception as exc:
        raise SourceError(str(exc)) from None
    with container:
        if not container.streams.video:
            raise SourceError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 30)
        picker = NearestPicker(times_s, lambda frame: convert(
            _rotate(frame.to_ndarray(format="bgr24"), int(getattr(frame, "rotation", 0) or 0))))
        t0 = None
        try:
            for n, frame in enumerate(container.decode(stream)):
                t = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else n / rate
                t0 = t if t0 is None else t0
                picker.offer(t - t0, frame)
                if picker.done:
                    break
        except Exception:  # damaged part-way: the times past the damage get the last good frame
            pass
        return picker.finish()


def grab_stills(video: Path, times_s: list[float], width: int = STILL_WIDTH) -> list[bytes | None]:
    """JPEG bytes of the frame nearest each time (None when the clip cannot be read there)."""
    from glutecam.sources import SourceError

    if not times_s:
        return []
    try:
        return _nearest_frames(video, times_s, convert=lambda img: thumbnail_jpeg(img, width=width))
    except SourceError:
        return [None] * len(times_s)


# -- left versus right --------------------------------------------------------------------------------------

@dataclass
class SideStats:
    side: str
    clips: list[str]
    n_reps: int
    n_fault: int
    mean_peak_drop: float | None
    max_peak_drop: float | None
    mean_peak_rotation: float | None
    measures: dict[str, float | None]


def _mean(vals: list[float | None]) -> float | None:
    v = [float(x) for x in vals if x is not None and math.isfinite(float(x))]
    return sum(v) / len(v) if v else None


def side_comparison(runs: list[Run]) -> dict[str, Any] | None:
    """Left and right of the same exercise (from one run with both sides or several runs); None if one side."""
    if not runs:
        return None
    exercise = runs[0].exercise
    by_side: dict[str, list[tuple[Run, dict[str, Any]]]] = {"left": [], "right": []}
    for run in runs:
        if run.exercise != exercise:
            continue
        for rep in run.reps:
            side = rep.get("side") or run.side
            if side in by_side:
                by_side[side].append((run, rep))
    if not (by_side["left"] and by_side["right"]):
        return None
    keys = list(KEY_MEASURES.get(exercise or "", ()))
    stats = {}
    for side, items in by_side.items():
        reps = [r for _, r in items]
        drops = [r.get("peak_pelvic_drop_deg") for r in reps]
        stats[side] = SideStats(
            side=side, clips=sorted({run.name for run, _ in items}), n_reps=len(reps),
            n_fault=sum(1 for r in reps if r.get("verdict") == "fault"),
            mean_peak_drop=_mean(drops), max_peak_drop=max((d for d in drops if d is not None), default=None),
            mean_peak_rotation=_mean([r.get("peak_pelvic_rotation_deg") for r in reps]),
            measures={k: _mean([rep_measure(r, k) for r in reps]) for k in keys})

    def diff(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    rows = [("reps (with a fault)", f"{stats['left'].n_reps} ({stats['left'].n_fault})",
             f"{stats['right'].n_reps} ({stats['right'].n_fault})", "")]
    for label, attr in (("mean peak pelvic drop", "mean_peak_drop"), ("largest peak pelvic drop", "max_peak_drop"),
                        ("mean peak pelvic rotation", "mean_peak_rotation")):
        a, b = getattr(stats["left"], attr), getattr(stats["right"], attr)
        rows.append((label + " (°)", fmt_num(a, signed=True), fmt_num(b, signed=True), fmt_num(diff(a, b), signed=True)))
    for k in keys:
        a, b = stats["left"].measures[k], stats["right"].measures[k]
        rows.append((MEASURES[k][0] + ", rep peak, mean (°)", fmt_num(a), fmt_num(b), fmt_num(diff(a, b), signed=True)))
    return {"exercise": exercise, "left": stats["left"], "right": stats["right"], "rows": rows}


# -- the page -----------------------------------------------------------------------------------------------

def _setup(run: Run, thresholds_source: str) -> list[tuple[str, str]]:
    s, src, model = run.summary, run.summary.get("source") or {}, run.summary.get("model") or {}
    st = run.set or {}
    rows = [
        ("clip", run.name),
        ("exercise", run.exercise or "none given (pose and pelvis line only)"),
        ("working side", f"{st.get('side') or 'unknown'} ({'given' if st.get('side_source') == 'user' else 'detected'})"
         if run.set is not None else "–"),
        ("camera view", str(st.get("view") or "–")),
        ("video", f"{src.get('width', '?')}×{src.get('height', '?')}, {fmt_num(src.get('fps'), '.2f')} fps, "
                  f"{src.get('codec') or '?'}, rotation {src.get('rotation_deg', 0)}°, "
                  f"{fmt_num(src.get('duration_s'), '.1f')} s"),
        ("frames analysed", f"{s.get('frames_analysed', '?')} ("
                            + ("every frame" if s.get("stride", 1) == 1 else f"1 in {s.get('stride')}")
                            + f"), person found in {s.get('frames_with_person', '?')}"),
        ("pose model", f"{model.get('name', '?')} ({model.get('origin', '?')})"),
        ("thresholds", thresholds_source),
        ("glutecam", str(s.get("glutecam_version", "?"))),
    ]
    return rows


def _not_measured(run: Run, missing_measures: list[str]) -> list[dict[str, str]]:
    items = []
    for nm in (run.set or {}).get("not_measured") or []:
        items.append({"what": nm.get("metric", "?"), "why": nm.get("reason", ""), "when": _span(nm)})
    for rep in run.reps:
        for nm in rep.get("not_measured") or []:
            items.append({"what": f"rep {rep['index']}: {nm.get('metric', '?')}", "why": nm.get("reason", ""),
                          "when": _span(nm)})
    named = {nm.get("metric") for nm in (run.set or {}).get("not_measured") or []}
    for col in missing_measures:
        if col not in named:
            items.append({"what": f"{MEASURES.get(col, (col, ()))[0]} ({col})",
                          "why": "no frame had a value for it", "when": "whole clip"})
    if run.set is None:
        items.append({"what": "reps, faults and verdicts", "why": "no exercise was given (--exercise)", "when": ""})
    return items


def _span(nm: dict[str, Any]) -> str:
    a, b = nm.get("start_s"), nm.get("end_s")
    if a is None and b is None:
        return "whole clip"
    return f"{fmt_num(a, '.2f')}–{fmt_num(b, '.2f')} s"


def _rep_rows(run: Run, thresholds: dict[str, dict[str, Any]], stills: Stills) -> list[dict[str, Any]]:
    reps = run.reps
    moments = still_moments(run)
    images: list[bytes | None] = [None] * len(reps)
    video = run.video or run.source_video
    if not isinstance(stills, bool) and len(stills) == len(reps):
        images = list(stills)
    elif stills and video is not None and reps:
        images = grab_stills(video, moments)
    exercise = run.exercise or ""
    rows = []
    for rep, at, jpg in zip(reps, moments, images):
        measures = [(measure_label(k), fmt_num(v, ".2f" if k.endswith("_s") else ".1f"))
                    for k, v in (rep.get("measures") or {}).items()]
        faults = sorted(rep.get("faults") or [], key=fault_badness, reverse=True)
        rows.append({
            "index": rep["index"], "start_s": float(rep["start_s"]), "end_s": float(rep["end_s"]),
            "side": rep.get("side") or run.side or "?", "verdict": rep.get("verdict", "?"),
            "drop": fmt_num(rep.get("peak_pelvic_drop_deg"), signed=True),
            "mean_drop": fmt_num(rep.get("mean_pelvic_drop_deg"), signed=True),
            "rotation": fmt_num(rep.get("peak_pelvic_rotation_deg"), signed=True),
            "drop_limit": fmt_num((thresholds.get("pelvic_drop") or {}).get("threshold")),
            "rotation_limit": fmt_num((thresholds.get("pelvic_rotation") or thresholds.get("pelvis_roll_back")
                                       or {}).get("threshold")),
            "measures": measures,
            "faults": [{"text": fault_text(f), "at_s": float(f["at_s"]), "severity": f.get("severity", "minor"),
                        "message": f.get("message", "")} for f in faults],
            "not_measured": [f"{nm.get('metric')}: {nm.get('reason')}" for nm in rep.get("not_measured") or []],
            "still_at_s": at,
            "still": ("data:image/jpeg;base64," + base64.b64encode(jpg).decode("ascii")) if jpg else None,
            "key": [fmt_num(rep_measure(rep, k)) for k in KEY_MEASURES.get(exercise, ())],
        })
    return rows


def _limit_note(run: Run, col: str, thresholds: dict[str, dict[str, Any]]) -> str:
    """` (limit 10°)` / ` (target 70°)`: the thresholds judged on a measure, for a table header."""
    notes = [f"{ln['word']} {ln['value']:g}°"
             for ln in _threshold_lines(run, col, thresholds) if ln["kind"] == "threshold"]
    return f" ({', '.join(notes)})" if notes else ""


def still_moments(run: Run) -> list[float]:
    """When each rep's still is taken (s from the first frame): `Run.worst_moment_s`."""
    return [run.worst_moment_s(r) for r in run.reps]


def render_report(run: Run, others: list[Run] | None = None, stills: Stills = True,
                  page_dir: Path | None = None) -> str:
    """The HTML text of the report for `run`; `others` are runs of the other side for the comparison."""
    template, context = _page(run, others, stills, page_dir)
    return template.render(**context)


def _page(run: Run, others: list[Run] | None, stills: Stills, page_dir: Path | None):
    """The report's Jinja template and the values it is rendered with (see `render_report`)."""
    page_dir = page_dir or run.path
    thresholds, thresholds_source = run.thresholds()
    timeline = build_timeline(run, thresholds)
    video = run.video or run.source_video
    replay = run.summary.get("replay") if run.video else None
    exercise = run.exercise or ""
    key_labels = ([MEASURES[k][0] + _limit_note(run, k, thresholds) for k in KEY_MEASURES.get(exercise, ())]
                  if run.set is not None else [])
    context = {
        "run": run,
        "title": f"glutecam report: {run.name}",
        "video_src": href(video, page_dir) if video else None,
        "video_is_source": video is not None and run.video is None,
        "replay": replay,
        "setup": _setup(run, thresholds_source),
        "warnings": list(run.summary.get("warnings") or []),
        "not_measured": _not_measured(run, (timeline or {}).get("missing", [])),
        "accuracy": accuracy_text(exercise, (run.set or {}).get("view")) if run.set is not None else None,
        "timeline": timeline,
        "reps": _rep_rows(run, thresholds, stills),
        "key_labels": key_labels,
        "sides": side_comparison([run, *(others or [])]),
        "verdict": run.verdict,
        "generated": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
        "js_data": {"reps": [{"index": r["index"], "start_s": r["start_s"], "end_s": r["end_s"]} for r in run.reps]},
    }
    return environment().get_template("report.html.j2"), context


def write_report(run_dir: str | Path, others: list[str | Path | Run] | None = None, stills: Stills = True,
                 out: str | Path | None = None) -> Path:
    """Write `report.html` into the output folder `run_dir` (or to `out`); returns its path.

    `others`: more output folders (or `Run`s) of the same exercise, e.g. the other side, for the
    left-versus-right table. `stills`: True to take each rep's still from the clip, False for none, or the
    JPEGs already taken (one per rep, at `still_moments`). Raises `RunError` when `run_dir` is not an output
    folder.
    """
    run = load_run(run_dir)
    other_runs = [o if isinstance(o, Run) else load_run(o) for o in (others or [])]
    out = Path(out) if out else run.path / "report.html"
    template, context = _page(run, other_runs, stills, out.parent)
    # written as rendered: the page of a long set (stills of hundreds of reps) is tens of MB as one string
    return write_text_atomic(out, template.generate(**context))


def _click_command():
    import click

    @click.command("report")
    @click.argument("run_dir", type=click.Path(path_type=Path))
    @click.option("--other", "others", multiple=True, type=click.Path(path_type=Path),
                  help="Another output folder of the same exercise (e.g. the other side), for left versus right.")
    @click.option("--out", type=click.Path(path_type=Path), default=None,
                  help="Where to write the page (default: RUN_DIR/report.html).")
    def report_cli(run_dir: Path, others: tuple[Path, ...], out: Path | None) -> None:
        """Write (again) the report.html of an analyse output folder."""
        from glutecam.cli import fail
        from glutecam.report.run import RunError

        try:
            path = write_report(run_dir, others=list(others), out=out)
        except RunError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the report: {exc.strerror or exc}")
        click.echo(f"report: {path}")

    return report_cli


report_cli = _click_command()
