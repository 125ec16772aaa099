"""Model resolution order, bundle checks and the download path, all without network."""

import io
import zipfile

import pytest

from glutecam import models
from glutecam.models import ModelError, check_bundle, download_model, resolve_model


def fake_bundle(path, members=("pose_detector.tflite", "pose_landmarks_detector.tflite")):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for m in members:
            zf.writestr(m, b"\0" * 16)
    return path


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    env, cache = tmp_path / "env", tmp_path / "cache"
    monkeypatch.setenv("GLUTECAM_MODEL_DIR", str(env))
    monkeypatch.setattr(models, "cache_dir", lambda: cache)
    return env, cache


def test_env_dir_wins_over_cache(dirs):
    env, cache = dirs
    fake_bundle(cache / "pose_landmarker_full.task")
    assert resolve_model().origin == "user cache"
    fake_bundle(env / "pose_landmarker_full.task")
    found = resolve_model()
    assert found.origin == "GLUTECAM_MODEL_DIR" and found.path == env / "pose_landmarker_full.task"


def test_explicit_path_wins_and_names_select_variants(dirs, tmp_path):
    env, _ = dirs
    fake_bundle(env / "pose_landmarker_full.task")
    fake_bundle(env / "pose_landmarker_lite.task")
    mine = fake_bundle(tmp_path / "mine" / "custom.task")
    assert resolve_model(mine).origin == "explicit path"
    assert resolve_model("lite").path.name == "pose_landmarker_lite.task"
    assert [m.name for m in models.list_models()] == ["lite", "full"]


def test_missing_model_says_how_to_get_one(dirs):
    with pytest.raises(ModelError, match="glutecam models download full"):
        resolve_model()
    with pytest.raises(ModelError, match="not found"):
        resolve_model("/nonexistent/model.task")


def test_invalid_bundles_are_rejected(tmp_path):
    (tmp_path / "text.task").write_text("hello")
    with pytest.raises(ModelError, match="not a MediaPipe model bundle"):
        check_bundle(tmp_path / "text.task")
    with pytest.raises(ModelError, match="missing pose_landmarks_detector.tflite"):
        check_bundle(fake_bundle(tmp_path / "half.task", members=("pose_detector.tflite",)))


class FakeResponse(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_checks_the_bundle_and_reports_progress(tmp_path):
    payload = fake_bundle(tmp_path / "src.task").read_bytes()
    seen = []
    path = download_model("lite", tmp_path / "dest", opener=lambda url, timeout: FakeResponse(payload),
                          progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == payload and path.name == "pose_landmarker_lite.task"
    assert seen[-1] == (len(payload), len(payload))


def test_a_bad_download_leaves_nothing_behind(tmp_path):
    with pytest.raises(ModelError):
        download_model("full", tmp_path, opener=lambda url, timeout: FakeResponse(b"<html>error</html>"))
    assert list(tmp_path.iterdir()) == []


class InterruptedResponse(FakeResponse):
    def read(self, n=-1):
        if self.tell() > 0:
            raise KeyboardInterrupt
        return super().read(4)


def test_an_interrupted_download_leaves_nothing_behind(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        download_model("full", tmp_path, opener=lambda url, timeout: InterruptedResponse(b"0123456789"))
    assert list(tmp_path.iterdir()) == []
