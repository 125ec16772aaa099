"""glutecam: rep-by-rep hip-stability feedback from a webcam or a video."""

__version__ = "0.1.0"
