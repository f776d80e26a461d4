r"""MACE as a MuSE backbone, assembled from mace-torch's own blocks.

Batatia, Kovács, Simm, Ortner, Csányi, "MACE: Higher order equivariant message passing
neural networks for fast and accurate force fields", NeurIPS 2022 (arXiv:2206.07697).

Each level holds a genuine ``mace.modules.ScaleShiftMACE`` and runs its blocks (node
embedding, radial embedding, spherical harmonics, interaction, symmetric-contraction product,
per-layer readouts, scale/shift) on MuSE's graphs; nothing of MACE is rewritten here. With no
coarse levels and the same weights the energy equals mace-torch's model (tested). Adaptations:

* MuSE's edge vectors point from target to source (r_j - r_i); MACE's from sender to receiver
  (r_receiver - r_sender), so the vectors are negated before the spherical harmonics.
* Coarse levels have no chemical elements: they use one pseudo-element (node attribute 1) and
  replace the one-hot node embedding by an embedding of the pooled scalars and log M_k.
* MACE's last layer keeps only scalars, so its state has no equivariant part: coarse levels
  start from pooled scalars (``equivariant_shape = None``).
* Per-layer readouts are summed, then scaled and shifted, as in ``ScaleShiftMACE``; the
  per-element E0s become MuSE's energy shifts.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import numpy as np
import torch
from ase.data import chemical_symbols
from torch import nn

from muse_explore.backbones.coarse_embedding import CoarseEmbedding
from muse_explore.backbones.contract import Backbone, GeometricGraph, NodeState
from muse_explore.backbones.e3nn_compat import import_o3
from muse_explore.errors import MuSEConfigError, MuSEFileError

_NO_WEIGHTS_ONLY = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"
_GATES = {"silu": torch.nn.functional.silu, "tanh": torch.tanh, None: None}


def _mace_modules():
    o3 = import_o3()
    try:
        # mace-torch *prints* (not warns) at import that its optional cuequivariance
        # acceleration is missing; muse_explore never uses it, so the notice is swallowed.
        # It also sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 for the whole process, so that every
        # later torch.load without an explicit weights_only would unpickle arbitrary code (and
        # torch warns about it while mace imports): the variable is put back afterwards.
        before = os.environ.get(_NO_WEIGHTS_ONLY)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=f"Environment variable {_NO_WEIGHTS_ONLY}")
            from mace.modules import ScaleShiftMACE, interaction_classes
        if before is None:
            os.environ.pop(_NO_WEIGHTS_ONLY, None)
        else:
            os.environ[_NO_WEIGHTS_ONLY] = before
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise MuSEConfigError(
            "the 'mace' backbone needs mace-torch: pip install 'muse-explore[mace]'"
        ) from err
    return o3, ScaleShiftMACE, interaction_classes


def read_mace_torch_file(path) -> torch.nn.Module:
    """The model in a mace-torch model file (``torch.save`` of a ``ScaleShiftMACE``).

    mace-torch stores whole pickled modules, so this unpickles code: only load files you
    trust. Raises :class:`MuSEFileError` for a missing or unreadable file.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise MuSEFileError(f"no MACE model file at {path}")
    _mace_modules()  # make e3nn importable under torch's weights-only default
    try:
        model = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise MuSEFileError(f"{path} is not a readable mace-torch model: {err}") from None
    if not isinstance(model, torch.nn.Module):
        raise MuSEFileError(f"{path} does not hold a mace-torch model")
    return model


def _gate_name(gate) -> str | None:
    if gate is None:
        return None
    name = getattr(gate, "__name__", str(gate))
    if name not in ("silu", "tanh"):
        raise MuSEConfigError(f"MACE readout gate {name!r} is not supported (silu or tanh)")
    return name


def mace_backbone_kwargs(mace_model) -> tuple[dict, list[str], dict[str, float], float, int]:
    """Hyperparameters of a mace-torch ``ScaleShiftMACE`` in MuSE's terms.

    Used by :func:`muse_explore.from_mace`. Returns ``(backbone_kwargs, elements,
    energy_shifts, r_max, num_interactions)``.
    """
    from mace.tools.scripts_utils import extract_config_mace_model

    cfg = extract_config_mace_model(mace_model)
    if "error" in cfg:
        raise MuSEConfigError(f"cannot use this MACE model: {cfg['error']}")
    if len(cfg["heads"]) != 1:
        raise MuSEConfigError(f"multi-head MACE models are not supported (heads {cfg['heads']})")
    if cfg.get("pair_repulsion"):
        raise MuSEConfigError("MACE models with pair repulsion are not supported; use zbl=True")
    for flag in (
        "use_so3",
        "use_agnostic_product",
        "use_last_readout_only",
        "use_embedding_readout",
    ):
        if cfg.get(flag):
            raise MuSEConfigError(f"MACE option {flag} is not supported")
    if cfg.get("distance_transform") not in (None, "None"):
        raise MuSEConfigError(
            f"MACE distance transform {cfg['distance_transform']} is not supported"
        )
    zs = [int(z) for z in cfg["atomic_numbers"]]
    elements = [chemical_symbols[z] for z in zs]
    e0 = torch.as_tensor(cfg["atomic_energies"]).reshape(-1, len(zs))[0]
    corr = cfg["correlation"]
    kwargs = {
        "hidden_irreps": str(cfg["hidden_irreps"]),
        "max_ell": int(cfg["max_ell"]),
        "correlation": [int(c) for c in corr] if isinstance(corr, (list, tuple)) else int(corr),
        "num_bessel": int(cfg["num_bessel"]),
        "num_polynomial_cutoff": int(cfg["num_polynomial_cutoff"]),
        "mlp_irreps": str(cfg["MLP_irreps"]),
        "radial_mlp": [int(x) for x in cfg["radial_MLP"]],
        "avg_num_neighbors": float(cfg["avg_num_neighbors"]),
        "interaction": cfg["interaction_cls"].__name__,
        "interaction_first": cfg["interaction_cls_first"].__name__,
        "gate": _gate_name(cfg["gate"]),
        "scale": float(torch.as_tensor(cfg["atomic_inter_scale"]).reshape(-1)[0]),
        "shift": float(torch.as_tensor(cfg["atomic_inter_shift"]).reshape(-1)[0]),
        "radial_type": cfg["radial_type"],
    }
    shifts = {e: float(v) for e, v in zip(elements, e0.tolist(), strict=True)}
    return kwargs, elements, shifts, float(cfg["r_max"]), int(cfg["num_interactions"])


class MACE(Backbone):
    """MACE on one level of a MuSE hierarchy (or alone).

    Args:
        atomic_numbers: Z of the atom level's species, in species order (they order MACE's
            one-hot node attributes); ``None`` builds a coarse level.
        cutoff: r_max in Å.
        hidden: scalar channels; the default ``hidden_irreps`` is ``{hidden}x0e+{hidden}x1o``.
        num_interactions: interaction + product blocks on this level.
        hidden_irreps: e3nn irreps of the hidden features (overrides ``hidden``'s default).
        max_ell: highest degree of the spherical harmonics.
        correlation: body order of the symmetric contraction (int or one per layer).
        num_bessel: radial Bessel functions; num_polynomial_cutoff: p of the envelope.
        mlp_irreps: hidden irreps of the last, non-linear readout.
        radial_mlp: widths of the radial MLP.
        avg_num_neighbors: normalisation of the aggregation.
        interaction, interaction_first: names in ``mace.modules.interaction_classes``.
        gate: ``"silu"`` or ``"tanh"``, the readout non-linearity.
        scale, shift: ScaleShiftMACE's scale and shift of the interaction energy.
        radial_type: ``"bessel"``, ``"gaussian"`` or ``"chebyshev"``.
    """

    def __init__(
        self,
        atomic_numbers: list[int] | None,
        cutoff: float,
        *,
        hidden: int = 64,
        num_interactions: int = 2,
        hidden_irreps: str | None = None,
        max_ell: int = 3,
        correlation: int | list[int] = 3,
        num_bessel: int = 8,
        num_polynomial_cutoff: int = 5,
        mlp_irreps: str = "16x0e",
        radial_mlp: list[int] | tuple[int, ...] = (64, 64, 64),
        avg_num_neighbors: float = 20.0,
        interaction: str = "RealAgnosticResidualInteractionBlock",
        interaction_first: str = "RealAgnosticResidualInteractionBlock",
        gate: str | None = "silu",
        scale: float = 1.0,
        shift: float = 0.0,
        radial_type: str = "bessel",
    ) -> None:
        super().__init__()
        o3, ScaleShiftMACE, classes = _mace_modules()
        if gate not in _GATES:
            raise MuSEConfigError(f"gate must be one of {sorted(map(str, _GATES))}, got {gate!r}")
        for name in (interaction, interaction_first):
            if name not in classes:
                raise MuSEConfigError(f"unknown MACE interaction {name!r}; see mace.modules")
        irreps = o3.Irreps(hidden_irreps or f"{hidden}x0e+{hidden}x1o")
        self.cutoff = float(cutoff)
        self.coarse = atomic_numbers is None
        zs = [0] if self.coarse else [int(z) for z in atomic_numbers]
        n_elem = len(zs)
        with warnings.catch_warnings():
            # e3nn compiles its generated tensor-product code with TorchScript while MACE is
            # built: TorchScript warns about e3nn's instance-level annotations (dozens of
            # times, harmless: the scripted code runs as written) and torch 2.10+ that
            # torch.jit.script is deprecated (e3nn's choice, nothing a user can change)
            warnings.filterwarnings(
                "ignore", message="The TorchScript type system", category=UserWarning
            )
            warnings.filterwarnings(
                "ignore", message="`torch.jit.script` is deprecated", category=DeprecationWarning
            )
            self.mace = ScaleShiftMACE(
                r_max=float(cutoff),
                num_bessel=num_bessel,
                num_polynomial_cutoff=num_polynomial_cutoff,
                max_ell=max_ell,
                interaction_cls=classes[interaction],
                interaction_cls_first=classes[interaction_first],
                num_interactions=num_interactions,
                num_elements=n_elem,
                hidden_irreps=irreps,
                MLP_irreps=o3.Irreps(mlp_irreps),
                atomic_energies=np.zeros(n_elem),
                avg_num_neighbors=float(avg_num_neighbors),
                atomic_numbers=zs,
                correlation=correlation,
                gate=_GATES[gate],
                radial_MLP=list(radial_mlp),
                radial_type=radial_type,
                atomic_inter_scale=float(scale),
                atomic_inter_shift=float(shift),
            )
        self.scalar_dim = irreps.count(o3.Irrep(0, 1))
        self.equivariant_shape = None
        if self.coarse:
            # coarse nodes are embedded from pooled features, not from a one-hot element
            self.mace.node_embedding = None
            f = self.scalar_dim
            self.coarse_embedding = CoarseEmbedding(f)

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def load_mace_weights(self, mace_model: torch.nn.Module) -> None:
        """Take the weights of a mace-torch model with this backbone's hyperparameters.

        Build the backbone from :func:`mace_backbone_kwargs`
        of the same model; any mismatch is an error naming the weights that differ.
        """
        try:
            self.mace.load_state_dict(mace_model.state_dict(), strict=True)
        except RuntimeError as err:
            raise MuSEConfigError(f"the MACE weights do not fit this backbone: {err}") from None

    def edge_bytes(self, itemsize: int) -> float:
        # measured (benchmarks/memory.py) per edge, channel and spherical-harmonic component:
        # about 2.4 values for the first block, whose input is scalars only (a coarse level's
        # one block), and 10.5 for each later block; with a margin of about 1.4 here
        sh = self.mace.spherical_harmonics.irreps_out.dim
        blocks = 3.5 + 15.0 * (len(self.mace.interactions) - 1)
        return blocks * sh * self.scalar_dim * itemsize

    def embed_atoms(self, species: torch.Tensor) -> NodeState:
        attrs = nn.functional.one_hot(species, self.mace.atomic_numbers.numel()).to(self._dtype())
        return NodeState(self.mace.node_embedding(attrs), None, {"node_attrs": attrs})

    def embed_coarse(self, pooled: NodeState, weight: torch.Tensor) -> NodeState:
        s = self.coarse_embedding(pooled.scalar, weight)
        return NodeState(s, None, {"node_attrs": s.new_ones(s.shape[0], 1)})

    def interact(self, state: NodeState, graph: GeometricGraph) -> NodeState:
        m = self.mace
        attrs = state.extra["node_attrs"]
        vectors = -graph.vectors  # MACE: r_receiver - r_sender
        edge_attrs = m.spherical_harmonics(vectors)
        edge_feats, cutoff = m.radial_embedding(
            graph.lengths.unsqueeze(-1), attrs, graph.edge_index, m.atomic_numbers
        )
        if graph.edge_weight is not None:
            # mace-torch's interaction blocks multiply their tensor-product weights by
            # ``cutoff`` when it is given (with apply_cutoff, the default, the envelope is in
            # edge_feats instead and ``cutoff`` is None), so every message is linear in it
            w = graph.edge_weight.unsqueeze(-1)
            cutoff = w if cutoff is None else cutoff * w
        feats, layers = state.scalar, []
        for i, (interaction, product) in enumerate(zip(m.interactions, m.products, strict=True)):
            feats, sc = interaction(
                node_attrs=attrs,
                node_feats=feats,
                edge_attrs=edge_attrs,
                edge_feats=edge_feats,
                edge_index=graph.edge_index,
                cutoff=cutoff,
                first_layer=(i == 0),
            )
            feats = product(node_feats=feats, sc=sc, node_attrs=attrs)
            layers.append(feats)
        return NodeState(feats, None, {"node_attrs": attrs, "layers": layers[:-1]})

    def readout(self, state: NodeState) -> torch.Tensor:
        m = self.mace
        heads = torch.zeros(state.scalar.shape[0], dtype=torch.long, device=state.scalar.device)
        feats = [*state.extra["layers"], state.scalar]
        if len(m.readouts) == 1:
            feats = feats[-1:]
        energy = sum(r(x, heads)[:, 0] for r, x in zip(m.readouts, feats, strict=True))
        return m.scale_shift(energy, heads)
