import torch

from muse_explore.backbones.radial import BesselBasis, polynomial_envelope


def test_envelope_is_c2_at_the_cutoff():
    x = torch.tensor([1.0 - 1e-6, 1.0], dtype=torch.float64, requires_grad=True)
    u = polynomial_envelope(x)
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    assert u[0].abs() < 1e-12 and g.abs().max() < 1e-9 and h.abs().max() < 1e-2
    assert polynomial_envelope(torch.tensor(0.0)) == 1.0
    assert polynomial_envelope(torch.tensor(1.5)) == 0.0


def test_bessel_finite_at_zero():
    b = BesselBasis(5.0, 8)(torch.tensor([0.0, 2.5, 5.0], dtype=torch.float64))
    assert b.shape == (3, 8) and torch.isfinite(b).all()
    assert b[2].abs().max() < 1e-12  # sin(n pi) = 0 at the cutoff


def test_envelope_is_the_dimenet_polynomial_and_never_negative():
    x = torch.linspace(0.0, 1.0, 20001, dtype=torch.float64)
    for p in (3, 6, 8):
        expanded = (
            1 - (p + 1) * (p + 2) / 2 * x**p + p * (p + 2) * x ** (p + 1)
            - p * (p + 1) / 2 * x ** (p + 2)
        )  # fmt: skip
        torch.testing.assert_close(polynomial_envelope(x, p), expanded, atol=1e-13, rtol=0)
    # the expanded form, evaluated in float32, dips to -4e-6 just below the cutoff
    near = torch.linspace(0.95, 1.0, 100001, dtype=torch.float32)
    assert polynomial_envelope(near).min() >= 0
