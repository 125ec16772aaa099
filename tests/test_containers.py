"""Diagnosis of cut-short MP4 files, and how a video source reports them (no pose model needed)."""

import pytest

from glutecam.containers import describe_damage, top_level_boxes
from glutecam.sources import SourceError, VideoFileSource
from tests.badinput import encode, scene_frames, trimmed_copy, truncated


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """The same 40 frames with the index (moov) last, as cameras write it, and first (`+faststart`)."""
    d = tmp_path_factory.mktemp("clips")
    frames = scene_frames(40, 160, 120)
    return {fs: encode(d / f"faststart{int(fs)}.mp4", frames, fps=20, faststart=fs) for fs in (False, True)}


def box_kinds(path):
    return [b.kind for b in top_level_boxes(path)]


def test_boxes_of_both_layouts(clips):
    assert box_kinds(clips[False])[-1] == "moov" and box_kinds(clips[True])[1] == "moov"
    assert describe_damage(clips[False]) is None and describe_damage(clips[True]) is None


def test_non_mp4_files_are_not_diagnosed(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("hello, this is not a video")
    assert top_level_boxes(text) is None and describe_damage(text) is None


@pytest.mark.parametrize("faststart, keep, says", [
    (False, 64, "'moov' box) is missing"),  # cut inside the data: the index, written last, is lost
    (False, 0.6, "'moov' box) is missing"),
    (False, -100, "'moov' box should hold"),  # cut inside the index itself
    (True, 200, "'moov' box should hold"),  # cut inside the index at the front
    (True, 0.7, "'mdat' box should hold"),  # index intact, data cut short
])
def test_cut_short_files_are_explained(clips, tmp_path, faststart, keep, says):
    src = clips[faststart]
    if isinstance(keep, int) and keep < 0:
        keep = src.stat().st_size + keep
    cut = truncated(src, tmp_path / "cut.mp4", keep)
    assert says in describe_damage(cut)


def test_a_source_cut_after_its_index_yields_the_frames_before_the_cut_and_says_so(clips, tmp_path):
    cut = truncated(clips[True], tmp_path / "cut.mp4", 0.7)
    src = VideoFileSource(cut)
    frames = list(src)
    assert 10 <= len(frames) < 40
    assert src.error.startswith(f"only the first {len(frames)} of 40 frames could be read")
    assert "cut short" in src.error


def test_an_intact_source_reports_no_error(clips):
    src = VideoFileSource(clips[True])
    assert len(list(src)) == 40 and src.error is None


def test_a_source_without_its_index_cannot_be_opened_and_says_why(clips, tmp_path):
    cut = truncated(clips[False], tmp_path / "cut.mp4", 0.6)
    with pytest.raises(SourceError, match="nothing in it can be decoded: the recording or copy was cut short"):
        VideoFileSource(cut)


def test_a_clip_trimmed_without_re_encoding_is_not_called_damaged(clips, tmp_path):
    """Its container counts frames the decoder skips (an edit list): that is not damage."""
    import av

    trimmed = trimmed_copy(clips[False], tmp_path / "trimmed.mp4", 0.5)
    with av.open(str(trimmed)) as c:
        counted = c.streams.video[0].frames
    src = VideoFileSource(trimmed)
    frames = list(src)
    assert len(frames) < counted - 2  # the situation this guards: fewer frames than the container says
    assert src.error is None and describe_damage(trimmed) is None
