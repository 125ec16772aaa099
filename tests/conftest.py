"""Shared fixtures: where the shared footage and model are, and pose tracks computed once per session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GLUTECAM_SHARED", REPO.parent / "shared"))
SAMPLES = SHARED / "samples"
SYNTH_DEV = SHARED / "synth_dev"


def _model_available() -> bool:
    try:
        from glutecam.models import resolve_model

        resolve_model(None)
        return True
    except Exception:
        return False


def require(condition: bool, why: str) -> None:
    """Skip when a resource is missing on a developer's machine; in CI a missing resource is a failure."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is missing a test resource: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    require(SAMPLES.is_dir(), f"real footage not found at {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def synth_dir() -> Path:
    require(SYNTH_DEV.is_dir(), f"rendered ground truth not found at {SYNTH_DEV}")
    return SYNTH_DEV


@pytest.fixture(scope="session")
def model_ready() -> None:
    require(_model_available(), "no pose model: set GLUTECAM_MODEL_DIR (CI uses ../shared/models)")


@pytest.fixture(scope="session", autouse=True)
def private_history_db(tmp_path_factory) -> Path:
    """Every test (and every `glutecam` it starts) records sessions here, never in the user's own history."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    os.environ["GLUTECAM_DB"] = str(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def no_model_telemetry() -> None:
    """Pose models run in the test process post no usage metrics either (see glutecam.privacy)."""
    from glutecam.privacy import block_model_telemetry

    block_model_telemetry()


_TRACKS: dict[tuple[str, int], object] = {}


def pose_track(path: Path, max_people: int = 1, limit: int | None = None):
    """Run the pose stage on a clip once per test session and cache the track."""
    from glutecam.pose import PoseEstimator
    from glutecam.sources import VideoFileSource
    from glutecam.track import PoseTrack

    key = (str(path), max_people, limit)
    if key not in _TRACKS:
        src = VideoFileSource(path)
        poses = []
        with PoseEstimator(max_people=max_people) as est:
            for frame in src:
                poses.append(est.process(frame))
                if limit and len(poses) >= limit:
                    break
        _TRACKS[key] = PoseTrack.from_frames(poses, (src.info.width, src.info.height), src.info.fps,
                                             source=str(path), model="full")
    return _TRACKS[key]


@pytest.fixture(scope="session")
def track_of(model_ready):
    return pose_track


def x264_options(path: Path) -> list[str]:
    """The settings libx264 wrote into the H.264 stream of `path` (its "options:" SEI), e.g. "subme=0"."""
    data = Path(path).read_bytes()
    start = data.index(b"options: ")
    return data[start + len(b"options: "):data.index(b"\0", start)].decode("ascii", "replace").split()


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30.0, times_s: list[float] | None = None) -> Path:
    """Encode BGR frames to H.264 MP4 (optionally with explicit presentation times) for tests."""
    from glutecam.video_out import H264Writer

    with H264Writer(path, fps, (frames[0].shape[1], frames[0].shape[0])) as w:
        for i, f in enumerate(frames):
            w.write(f, None if times_s is None else times_s[i])
    return path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (no browser download: .ci/run installs `chromium`)."""
    require(CHROMIUM.exists(), "Debian chromium is not installed (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageLog:
    """What a page said while open: console messages, uncaught errors, dialogs (alert() and the like), and
    every request that was not for a local file."""

    def __init__(self, page) -> None:
        self.console, self.errors, self.dialogs, self.remote = [], [], [], []
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else self.remote.append(r.url))

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "warning")]


def wait_until(page, expression: str, timeout_s: float = 15.0):
    """Poll a JavaScript expression until it is truthy (Playwright's wait_for_function evaluates strings in
    the page, which the report's Content-Security-Policy rightly forbids)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


@pytest.fixture
def open_page(chromium):
    """open_page(path) -> (page, PageLog): a local HTML file loaded in a fresh page."""
    pages = []

    def _open(path: Path):
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        log = PageLog(page)
        page.goto(Path(path).resolve().as_uri())
        page.wait_for_load_state("load")
        pages.append(page)
        return page, log

    yield _open
    for page in pages:
        page.close()
