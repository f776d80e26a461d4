"""Probe configs (sample_data/configs/probes/): a short fine-tune of a shipped model that ranks
one experiment's change against a control trained the same way without it."""

from pathlib import Path

import pytest
import yaml

from muse_explore.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "sample_data" / "configs"
PROBES = sorted((CONFIGS / "probes").glob("*.yaml"))
#: What a probe changes against its protocol config besides the experiment's one change.
PROBE_OPTIM = {"lr": 2.0e-4, "epochs": 3, "warmup_steps": 0}


def _split(path: Path) -> tuple[str, str]:
    """(protocol name, change suffix): ``painn-peptide-probe-energy`` -> (painn-peptide, energy)."""
    base, _, suffix = path.stem.partition("-probe")
    return base, suffix.lstrip("-")


def _without_probe_fields(cfg: dict, name: str, base: str) -> dict:
    assert cfg.pop("run_dir") == f"runs/probes/{name}"
    assert cfg.pop("init_from") == f"muse_explore/pretrained/{base}.pt"
    for key, value in PROBE_OPTIM.items():
        assert cfg["optim"].pop(key) == value
    return cfg


def test_there_are_probes_and_each_has_its_control():
    assert PROBES
    names = {p.stem for p in PROBES}
    for p in PROBES:
        base, _ = _split(p)
        assert f"{base}-probe" in names, f"{p.name} has no control"
        assert (ROOT / "muse_explore" / "pretrained" / f"{base}.pt").is_file()


@pytest.mark.parametrize("path", PROBES, ids=lambda p: p.stem)
def test_a_probe_is_its_control_plus_its_experiments_one_change(path):
    base, suffix = _split(path)
    probe = _without_probe_fields(yaml.safe_load(path.read_text()), path.stem, base)
    protocol = yaml.safe_load((CONFIGS / "protocol" / f"{base}.yaml").read_text())
    protocol.pop("run_dir")
    for key in PROBE_OPTIM:
        protocol["optim"].pop(key)
    if not suffix:  # the control: the protocol, fine-tuned
        assert probe == protocol
    else:  # the change of the experiment of the same name, and only that
        experiment = yaml.safe_load((CONFIGS / "experiments" / f"{base}-{suffix}.yaml").read_text())
        experiment.pop("run_dir")
        for key in PROBE_OPTIM:
            experiment["optim"].pop(key)
        assert probe == experiment
        assert probe != protocol
    TrainConfig.from_dict(yaml.safe_load(path.read_text()))
