"""Names of the 33 BlazePose landmarks, the skeleton's bones and the left/right pairs.

`Landmark.LEFT_HIP` is the subject's own left hip (MediaPipe's convention), which is on
the image's right when the person faces the camera.
"""

from __future__ import annotations

from enum import IntEnum


class Landmark(IntEnum):
    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


N_LANDMARKS = len(Landmark)

#: Bones drawn on the overlay, as pairs of landmarks.
SKELETON: tuple[tuple[Landmark, Landmark], ...] = tuple(
    (Landmark[a], Landmark[b])
    for a, b in (
        ("LEFT_SHOULDER", "RIGHT_SHOULDER"),
        ("LEFT_SHOULDER", "LEFT_ELBOW"), ("LEFT_ELBOW", "LEFT_WRIST"),
        ("RIGHT_SHOULDER", "RIGHT_ELBOW"), ("RIGHT_ELBOW", "RIGHT_WRIST"),
        ("LEFT_SHOULDER", "LEFT_HIP"), ("RIGHT_SHOULDER", "RIGHT_HIP"),
        ("LEFT_HIP", "RIGHT_HIP"),
        ("LEFT_HIP", "LEFT_KNEE"), ("LEFT_KNEE", "LEFT_ANKLE"),
        ("LEFT_ANKLE", "LEFT_HEEL"), ("LEFT_HEEL", "LEFT_FOOT_INDEX"), ("LEFT_ANKLE", "LEFT_FOOT_INDEX"),
        ("RIGHT_HIP", "RIGHT_KNEE"), ("RIGHT_KNEE", "RIGHT_ANKLE"),
        ("RIGHT_ANKLE", "RIGHT_HEEL"), ("RIGHT_HEEL", "RIGHT_FOOT_INDEX"), ("RIGHT_ANKLE", "RIGHT_FOOT_INDEX"),
    )
)


def mirror_index() -> list[int]:
    """Index permutation that swaps every left landmark with its right partner.

    `track.image_px[:, mirror_index()]` relabels a track as its mirror image would be labelled.
    """
    order = []
    for lm in Landmark:
        name = lm.name
        if name.startswith("LEFT_"):
            order.append(Landmark["RIGHT_" + name[5:]].value)
        elif name.startswith("RIGHT_"):
            order.append(Landmark["LEFT_" + name[6:]].value)
        elif name == "MOUTH_LEFT":
            order.append(Landmark.MOUTH_RIGHT.value)
        elif name == "MOUTH_RIGHT":
            order.append(Landmark.MOUTH_LEFT.value)
        else:
            order.append(lm.value)
    return order


def side_landmark(side: str, part: str) -> Landmark:
    """`side_landmark("left", "hip")` -> `Landmark.LEFT_HIP`."""
    return Landmark[f"{side.upper()}_{part.upper()}"]
