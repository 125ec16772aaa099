"""Finding, checking and downloading the MediaPipe pose-landmarker model bundles.

Resolution order for a model name (`lite`, `full`, `heavy`) or path:
1. an explicit path (`--model FILE` or a folder holding `pose_landmarker_<name>.task`);
2. the folder in `GLUTECAM_MODEL_DIR`;
3. the per-user cache (`glutecam models download` puts files there).
Nothing is downloaded implicitly: a missing model is an error that says how to get it.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from glutecam.files import replacing

MODEL_NAMES = ("lite", "full", "heavy")
DEFAULT_MODEL = "full"
OFFICIAL_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_{name}/float16/latest/pose_landmarker_{name}.task"
)
_REQUIRED_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")


class ModelError(RuntimeError):
    """No usable model; the message tells the user what to do."""


def file_name(name: str) -> str:
    return f"pose_landmarker_{name}.task"


def cache_dir() -> Path:
    """Per-user model cache (e.g. ~/.cache/glutecam/models on Linux)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("glutecam")) / "models"


def search_dirs() -> list[tuple[str, Path]]:
    """(origin, folder) pairs searched in order, after any explicit path."""
    dirs = []
    env = os.environ.get("GLUTECAM_MODEL_DIR")
    if env:
        dirs.append(("GLUTECAM_MODEL_DIR", Path(env).expanduser()))
    dirs.append(("user cache", cache_dir()))
    return dirs


def check_bundle(path: Path) -> None:
    """Raise `ModelError` unless `path` is a pose-landmarker bundle (a zip of the two TFLite models)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{path}: not a MediaPipe model bundle ({exc})") from None
    missing = [m for m in _REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ModelError(f"{path}: not a pose-landmarker bundle (missing {', '.join(missing)})")
    if bad is not None:
        raise ModelError(f"{path}: damaged model bundle (bad member {bad})")


@dataclass(frozen=True)
class FoundModel:
    name: str
    path: Path
    origin: str
    size_bytes: int


def resolve_model(model: str | Path | None = None) -> FoundModel:
    """Find the model file to use; `model` is a path, a folder, a name (`full`) or None (default)."""
    name = DEFAULT_MODEL
    if model is not None:
        text = str(model)
        if text in MODEL_NAMES:
            name = text
        else:
            p = Path(text).expanduser()
            if p.is_dir():
                p = p / file_name(DEFAULT_MODEL)
            if not p.is_file():
                raise ModelError(f"model file not found: {p}")
            check_bundle(p)
            return FoundModel(_name_of(p), p, "explicit path", p.stat().st_size)
    for origin, folder in search_dirs():
        p = folder / file_name(name)
        if p.is_file():
            check_bundle(p)
            return FoundModel(name, p, origin, p.stat().st_size)
    where = "; ".join(f"{o}: {d}" for o, d in search_dirs())
    raise ModelError(
        f"no '{name}' pose model found (looked in {where}). "
        f"Run `glutecam models download {name}` on a machine with internet, "
        "or pass --model PATH, or set GLUTECAM_MODEL_DIR."
    )


def _name_of(path: Path) -> str:
    stem = path.stem
    for n in MODEL_NAMES:
        if stem.endswith("_" + n):
            return n
    return stem


def list_models() -> list[FoundModel]:
    """Every model bundle in the search folders, in resolution order."""
    found = []
    for origin, folder in search_dirs():
        for name in MODEL_NAMES:
            p = folder / file_name(name)
            if p.is_file():
                found.append(FoundModel(name, p, origin, p.stat().st_size))
    return found


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_model(
    name: str,
    dest_dir: Path | None = None,
    url: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    opener: Callable = None,
) -> Path:
    """Download the official bundle `name` into `dest_dir` (default: the user cache) and check it.

    `progress(done_bytes, total_bytes_or_None)` is called as data arrives. The file is written under a
    temporary name and only renamed into place once it has been checked as a valid bundle.
    """
    import urllib.request

    if name not in MODEL_NAMES:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    dest_dir = Path(dest_dir) if dest_dir else cache_dir()
    url = url or OFFICIAL_URL.format(name=name)
    target = dest_dir / file_name(name)
    open_url = opener or urllib.request.urlopen
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        with replacing(target) as tmp:  # removes the partial file on any error, Ctrl+C included
            with open_url(url, timeout=30) as resp, open(tmp, "wb") as out:
                total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                total = int(total) if total else None
                done = 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            check_bundle(tmp)
    except OSError as exc:
        raise ModelError(f"download of {url} failed: {exc}") from None
    return target
