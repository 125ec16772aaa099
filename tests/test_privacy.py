"""Privacy and security: nothing but `glutecam models download` touches the network, no shell command is
built from user input, and text from file names never becomes markup in an HTML page.

The network test runs the real commands in subprocesses whose `sitecustomize.py` replaces the socket
functions with ones that log the attempt and fail. The commands must still succeed and the log stay empty.
Where `strace` is available, the analysis also runs under it, which sees connections made from C++ too.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import badinput as bad

PACKAGE = Path(__file__).resolve().parents[1] / "glutecam"

BLOCKER = '''
import os, socket, traceback

_LOG = os.environ["GLUTECAM_TEST_NET_LOG"]


def _refuse(what, detail=""):
    with open(_LOG, "a") as fh:
        fh.write(f"{what} {detail}\\n" + "".join(traceback.format_stack(limit=12)) + "\\n")
    raise OSError(f"network access blocked by the test: {what} {detail}")


def _getaddrinfo(host, *args, **kwargs):
    _refuse("getaddrinfo", host)


def _gethostbyname(host, *args):
    _refuse("gethostbyname", host)


_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto


def _is_inet(sock):
    return sock.family in (socket.AF_INET, socket.AF_INET6)


def connect(self, address):
    if _is_inet(self):
        _refuse("connect", address)
    return _connect(self, address)


def connect_ex(self, address):
    if _is_inet(self):
        _refuse("connect_ex", address)
    return _connect_ex(self, address)


def sendto(self, *args):
    if _is_inet(self):
        _refuse("sendto", args[-1])
    return _sendto(self, *args)


socket.getaddrinfo = _getaddrinfo
socket.gethostbyname = _gethostbyname
socket.create_connection = lambda address, *a, **k: _refuse("create_connection", address)
socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
'''


def offline(tmp_path: Path, *args, cwd=None, wrap: list[str] | None = None,
            env_extra: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, str]:
    """Run `glutecam ARGS` with sockets blocked; returns (process, log of attempted connections)."""
    hook = tmp_path / "netblock"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(BLOCKER)
    log = tmp_path / "net.log"
    log.write_text("")
    # without the test process's own telemetry block (conftest): each command must block by itself
    inherited = {k: v for k, v in os.environ.items() if k.lower() not in ("https_proxy", "all_proxy", "no_proxy")}
    env = {**inherited, "PYTHONPATH": str(hook), "GLUTECAM_TEST_NET_LOG": str(log),
           "GLUTECAM_DB": str(tmp_path / "history.sqlite"), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           **(env_extra or {})}
    cmd = [*(wrap or []), sys.executable, "-m", "glutecam", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd or tmp_path, timeout=300)
    return proc, log.read_text()


@pytest.fixture(scope="module")
def clip(tmp_path_factory, samples_dir):
    return bad.encode(tmp_path_factory.mktemp("clip") / "set.mp4", bad.person_frames(12))


def test_the_blocker_blocks(tmp_path):
    """The control: a download is refused, reported in one line, and the attempt is logged."""
    proc, log = offline(tmp_path, "models", "download", "lite", "--dest", tmp_path / "models")
    assert proc.returncode == 2
    assert "download of https://" in proc.stderr and "failed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "storage.googleapis.com" in log
    assert not list((tmp_path / "models").glob("*"))  # no partial download left behind


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["models", "list"], ["analyse", "--help"],
                                  ["history"]], ids=" ".join)
def test_commands_do_not_use_the_network(tmp_path, args):
    proc, log = offline(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    assert log == ""


def test_analysis_does_not_use_the_network(tmp_path, clip, model_ready):
    out = tmp_path / "out"
    proc, log = offline(tmp_path, "analyse", clip, "--exercise", "split-squat", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert log == ""
    assert (out / "annotated.mp4").exists() and (out / "summary.json").exists()


def test_live_coaching_does_not_use_the_network(tmp_path, clip, model_ready):
    out = tmp_path / "live"
    proc, log = offline(tmp_path, "live", "--exercise", "split-squat", "--replay", clip, "--speed", "4",
                        "--no-window", "--no-setup", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert log == ""
    assert (out / "summary.json").exists()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_analysis_makes_no_network_system_call(tmp_path, clip, model_ready):
    """Seen from the kernel: no connect() or sendto() to an internet address, from Python or C++.

    MediaPipe's own libcurl posts usage metrics unless glutecam stops it (glutecam.privacy); NO_PROXY=*
    would let it bypass the block, so it is set here."""
    trace = tmp_path / "strace.log"
    wrap = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace)]
    proc, log = offline(tmp_path, "analyse", clip, "--out", tmp_path / "out", "--no-video", wrap=wrap,
                        env_extra={"NO_PROXY": "*", "no_proxy": "*"})
    if proc.returncode != 0 and "ptrace" in proc.stderr:
        pytest.skip(f"strace cannot trace here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    calls = [line for line in trace.read_text().splitlines() if re.search(r"\b(connect|sendto|sendmsg)\(", line)]
    assert not [c for c in calls if "AF_INET" in c], calls


def test_as_a_library_glutecam_leaves_the_proxy_settings_alone(monkeypatch, model_ready):
    """Only the command blocks MediaPipe's metrics by proxy variables: a notebook's other HTTP clients
    honour the same variables, so creating a pose model must not change them."""
    from glutecam.pose import PoseEstimator

    sentinel = "glutecam-test-sentinel://not-a-proxy"  # an unsupported scheme: fails locally, like ours
    monkeypatch.setenv("https_proxy", sentinel)
    monkeypatch.setenv("no_proxy", "example.org")
    with PoseEstimator(max_people=1):
        pass
    assert os.environ["https_proxy"] == sentinel and os.environ["no_proxy"] == "example.org"


def test_no_shell_command_strings_in_the_package():
    """Subprocesses (if any) take argument lists: nothing can turn a file name into a shell command."""
    forbidden = re.compile(r"shell\s*=\s*True|os\.system\s*\(|os\.popen\s*\(|subprocess\.getoutput|"
                           r"subprocess\.getstatusoutput|commands\.getoutput|pty\.spawn")
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    hits = [f"{f.relative_to(PACKAGE.parent)}:{i}: {line.strip()}" for f in files
            for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if forbidden.search(line)]
    assert hits == []


HOSTILE = '<script>alert("x")<script> <img src=x onerror=alert(1)> & "quotes"'


def test_file_names_are_escaped_in_every_html_page(tmp_path, samples_dir, model_ready):
    """A clip and folders named like markup appear in report.html, compare.html and a batch's index.html
    only as escaped text; `report`, `compare` and a batch make no connection either."""
    folder = tmp_path / "<b>folder"
    folder.mkdir()
    bad.encode(folder / f"{HOSTILE}.mp4", bad.person_frames(6))
    out = tmp_path / "<i>out"
    proc, log = offline(tmp_path, "analyse", folder, "--exercise", "split-squat", "--out", out, "--no-video")
    assert proc.returncode == 0, proc.stderr
    run = out / HOSTILE
    pages = [out / "index.html", run / "report.html"]
    for args in (["report", run], ["compare", run, run, "--out", tmp_path / "<s>compare.html"]):
        proc, more = offline(tmp_path, *args)
        assert proc.returncode == 0, proc.stderr
        log += more
    pages.append(tmp_path / "<s>compare.html")
    assert log == ""
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for raw in ("<script>alert", "<img src=x", "<b>folder", "<i>out", "<s>compare", 'alert("x")'):
            assert raw not in text, (page.name, raw)
        assert html.escape("<img src=x onerror=alert(1)>", quote=False) in text, page.name  # shown, as text
