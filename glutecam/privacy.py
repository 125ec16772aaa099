"""Keeping glutecam offline: nothing but `glutecam models download` may use the network.

MediaPipe Tasks (the pose model's runtime) posts usage metrics to Google (`https://play.googleapis.com/log`;
see "Privacy Notice" in MediaPipe's package description) from a thread of its own, through the libcurl
built into `libmediapipe.so`, with no switch to turn it off. That libcurl honours the standard proxy
variables, so the `glutecam` command points `https_proxy` at a scheme that does not exist: every such request
then fails inside curl before any name lookup or connection, and the model runs exactly as before. Only the
command's own environment is changed (its batch workers inherit it), in every command but
`glutecam models download`, which needs the network and any proxy the user has set.

As a library, glutecam leaves your environment alone (other HTTP clients in your process honour the same
variables); call `block_model_telemetry()` yourself, before creating a pose model, to get the same privacy.

>>> env = {"no_proxy": "*", "PATH": "/bin"}
>>> block_model_telemetry(env)
>>> env["https_proxy"] == OFFLINE_PROXY and "no_proxy" not in env and env["PATH"] == "/bin"
True
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: A proxy URL libcurl rejects without touching the network ("unsupported proxy scheme").
OFFLINE_PROXY = "glutecam-offline://no-network"

_PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
_BYPASS_VARS = ("no_proxy", "NO_PROXY")  # a host listed here would skip the proxy and go direct


def block_model_telemetry(environ: MutableMapping[str, str] | None = None) -> None:
    """Make MediaPipe's metrics upload fail locally (see the module docstring). Idempotent."""
    environ = os.environ if environ is None else environ
    for var in _PROXY_VARS:
        environ[var] = OFFLINE_PROXY
    for var in _BYPASS_VARS:
        environ.pop(var, None)
