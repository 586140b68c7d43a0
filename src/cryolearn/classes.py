"""The surface-class vocabulary shared by truth, labels, probabilities and figures.

It sits below every other module: code that runs on real data (labels, per-shot
probabilities) names classes through it, never through the synthetic world.
"""

from __future__ import annotations

#: Surface classes of the truth rasters; the code is the index.
SURFACE_CLASSES: tuple[str, ...] = (
    "smooth",
    "crevasses",
    "crossing_crevasses",
    "serac_field",
    "channel",
    "moulin_bowl",
    "lake",
    "hummocky",
)
#: class name -> code in the truth rasters
CLASS_CODE = {name: code for code, name in enumerate(SURFACE_CLASSES)}
#: Classes that count as crevassed ice.
CREVASSED_CLASSES: tuple[str, ...] = ("crevasses", "crossing_crevasses", "serac_field")
