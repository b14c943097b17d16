"""The course's experiments as page configurations (the page's preset menu).

* **football** (needs ``--data football.mat``): the Regularization exercise, a
  ``[2, 20, 3, 1]`` ReLU network, learning rate 0.3, the course's randomness;
  none, L2 0.7 and dropout 0.86 side by side. After 30,000 steps the page shows
  the published accuracies (:data:`reglab.experiments.course.FOOTBALL`).
* **init_circles**: the Initialization exercise on the course's circles, a
  ``[2, 10, 5, 1]`` network, learning rate 0.01; zeros, random (x10) and He
  side by side (published after 15,000 steps in :data:`reglab.experiments.course.CIRCLES`).
* **week1_field**: the lesson of week 1 on reglab's noisy field: none, L2,
  dropout from the same initial weights.
"""

from __future__ import annotations

from ..experiments.course import FOOTBALL


def _column(lr, init="he", l2=0.0, keep=1.0, n_hidden=2, **extra):
    return {"learning_rate": lr, "init": init, "l2": l2, "l1": 0.0, "keep_prob": [keep] * n_hidden,
            "early_stopping": None, "augment": None, **extra}


def _page(dataset, layers, columns, course=False, n_samples=None, noise=None, record_every=100):
    return {"dataset": dataset, "n_samples": n_samples, "noise": noise, "data_seed": 0, "dev": False,
            "split": None, "train_size": None, "layers": layers, "hidden": "relu", "batch_size": None, "seed": 0,
            "record_every": record_every, "course_compat": course, "columns": columns}


def presets(have_file: bool) -> list[dict]:
    """``[{"name", "label", "steps", "config"}]``; football only when ``--data`` gave a file."""
    out = []
    if have_file:
        runs = [FOOTBALL[k]["settings"] for k in ("no_regularization", "l2", "dropout")]
        out.append({"name": "football", "steps": 30000,
                    "label": "Course: football, none / L2 0.7 / dropout 0.86 (30,000 steps)",
                    "config": _page("file", [20, 3], [_column(0.3, "course", r["l2"], r["keep_prob"])
                                                      for r in runs], course=True, record_every=1000)})
    out.append({"name": "init_circles", "steps": 15000,
                "label": "Course: initialization on circles, zeros / random / He (15,000 steps)",
                "config": _page("circles_course", [10, 5], [_column(0.01, init) for init in
                                                           ("zeros", "random", "he")],
                                course=True, record_every=1000)})
    out.append({"name": "week1_field", "steps": 3000,
                "label": "Week 1 on the field: none / L2 / dropout",
                "config": _page("field", [20, 3], [_column(0.3), _column(0.3, l2=0.7), _column(0.3, keep=0.86)],
                                n_samples=400, noise=0.1)})
    return out
