"""The built-in DMI exercise catalog, seeded by the first migration.

Built-in exercises are not editable (``editable=False``) so that reports line up across
clinics; a clinic adds its own with :meth:`store.Store.upsert_exercise`. ``signal_profile``
names how ``analysis/`` segments reps for the exercise (vertical load transfer,
medio-lateral shift, ...); several exercises share one profile.
"""

from __future__ import annotations

from store.rows import ExerciseRow


def _ex(key: str, name: str, domain: str, reps: int, profile: str) -> ExerciseRow:
    return ExerciseRow(key, name, domain, reps, profile, editable=False)


DEFAULT_EXERCISES: tuple[ExerciseRow, ...] = (
    _ex("sit-balance-ball", "Sitting balance on ball", "sitting", 3, "static-hold"),
    _ex("sit-reach-ball", "Reach out of base sitting on ball", "sitting", 6, "reach"),
    _ex("tall-kneel-hold", "Tall kneeling hold on foam", "kneeling", 3, "static-hold"),
    _ex("kneel-to-stand", "Half-kneel to stand", "transitions", 4, "vertical-transfer"),
    _ex("floor-to-stand", "Floor to stand", "transitions", 3, "vertical-transfer"),
    _ex("sit-to-stand-foam", "Sit-to-stand on foam", "transitions", 5, "vertical-transfer"),
    _ex("stand-foam-pad", "Stand on foam pad", "standing", 3, "static-hold"),
    _ex("stand-ladder-rungs", "Stand on ladder rungs", "standing", 3, "static-hold"),
    _ex("squat-ladder-rungs", "Squat on ladder rungs", "standing", 5, "vertical-transfer"),
    _ex("weight-shift-lateral-foam", "Lateral weight shift on foam", "standing", 8, "ml-shift"),
    _ex("weight-shift-ap", "Forward-backward weight shift", "standing", 8, "ap-shift"),
    _ex("reach-across-midline", "Reach across midline", "standing", 6, "reach"),
    _ex("single-leg-stance", "Single-leg stance", "standing", 4, "static-hold"),
    _ex("step-onto-block", "Step onto block", "gait", 5, "step"),
    _ex("step-down-block", "Step down from block", "gait", 5, "step"),
    _ex("walk-ladder-rungs", "Walk across ladder rungs", "gait", 3, "step"),
    _ex("protective-step", "Protective stepping reaction", "reactions", 5, "perturbation"),
)
