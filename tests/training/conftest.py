"""Small training runs on the shipped GFN2-xTB data (tiny models, one thread)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCANS = ROOT / "sample_data" / "data" / "graphene_scans.extxyz.xz"
PERIODIC = ROOT / "sample_data" / "data" / "periodic.extxyz.xz"


def small_config(run_dir, **over) -> dict:
    """A complete, fast configuration (float64 so that runs compare exactly)."""
    cfg = {
        "run_dir": str(run_dir),
        "seed": 0,
        "dtype": "float64",
        "eval_dtype": "float64",
        "num_threads": 1,
        "data": {
            "files": [str(SCANS), str(PERIODIC)],
            "group_by": None,
            "max_structures": 24,
            "val_fraction": 0.25,
            "test_fraction": 0.25,
        },
        "model": {
            "elements": ["H", "C", "N", "O"],
            "levels": 1,
            "hidden": 8,
            "num_interactions": [1, 1],
        },
        "optim": {"batch_size": 4, "epochs": 2, "warmup_steps": 2, "lr": 5e-3},
    }
    for key, value in over.items():
        section, _, field = key.partition("__")
        if field:
            cfg.setdefault(section, {})[field] = value
        else:
            cfg[key] = value
    return cfg


@pytest.fixture
def write_config(tmp_path):
    def write(name="run", **over):
        cfg = small_config(tmp_path / name, **over)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return path, cfg

    return write
