"""Live coaching (`glutecam live`), one module per part:

- `session`: the frame loop (newest frame -> pose -> set-up checks / analysis -> feedback -> picture);
- `setup`: the set-up checks that guide the person into place before counting;
- `hud`: the live picture; `display`: where it goes (an OpenCV window, or memory for tests);
- `sound`: optional tones and spoken cues that never block the loop;
- `writer`: the files written as the set goes; `command`: the command line; `bench`: the benchmark hook.

The feedback layer that turns the analysers' live state into cues is `glutecam.feedback`.
"""
