"""Gradients as explicit Jacobian products (cryolearn.nn.jacobian) against torch autograd."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cryolearn.bedtopo.loss import EPSILON, balanced_loss
from cryolearn.nn.clustering import kl_clustering_loss, student_t_assignment, target_distribution
from cryolearn.nn.jacobian import (
    BALANCED_EPSILON,
    MSE,
    AvgPool2d,
    BalancedLoss,
    BalancedTarget,
    Conv2d,
    CrossEntropy,
    Identity,
    KLClustering,
    Layer,
    Linear,
    Loss,
    MaxPool2d,
    Network,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    StudentTAssignment,
    Tanh,
    chain_input_jacobians,
    one_hot,
)

TOLERANCE = 1e-10
TorchLayer = Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor]


def relative_error(g: np.ndarray, reference: torch.Tensor | np.ndarray) -> float:
    reference = np.asarray(reference.detach() if isinstance(reference, torch.Tensor)
                           else reference)
    return float(np.linalg.norm(g - reference) / np.linalg.norm(reference))


def as_tensors(params: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}


class Dot(Loss):
    """L = c · y: its row is c, so the gradient is c times the Jacobian."""

    def __init__(self, c: np.ndarray) -> None:
        self.c = c

    def value(self, y: np.ndarray, target: object) -> float:
        return float(self.c @ y)

    def row(self, y: np.ndarray, target: object) -> np.ndarray:
        return self.c[None, :]


def assert_matches_autograd(layers: list[Layer], torch_layers: list[TorchLayer],
                            x: np.ndarray, target: object, loss: Loss,
                            torch_loss: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Loss, parameter and input gradients of Network(layers) equal autograd's."""
    network = Network(layers)
    gradients, input_gradient = network.backward(x, target, loss)
    x_t = torch.tensor(x, requires_grad=True)
    params_t = [as_tensors(layer.params) for layer in layers]
    y_t = x_t
    for torch_layer, p in zip(torch_layers, params_t, strict=True):
        y_t = torch_layer(y_t, p)
    np.testing.assert_allclose(network.output(x), y_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    value_t = torch_loss(y_t)
    assert network.loss(x, target, loss) == pytest.approx(value_t.item(), rel=1e-12, abs=1e-14)
    value_t.backward()
    assert relative_error(input_gradient, x_t.grad) < TOLERANCE
    for ours, theirs in zip(gradients, params_t, strict=True):
        assert ours.keys() == theirs.keys()
        for name, tensor in theirs.items():
            assert ours[name].shape == tuple(tensor.shape)
            assert relative_error(ours[name], tensor.grad) < TOLERANCE, name


def check_layer(layer: Layer, torch_layer: TorchLayer, x: np.ndarray,
                rng: np.random.Generator) -> None:
    """The layer's row–Jacobian products and its full Jacobians against autograd."""
    c = rng.normal(size=layer.forward(x).size)
    assert_matches_autograd([layer], [torch_layer], x, None, Dot(c),
                            lambda y: (torch.tensor(c) * y).sum())
    names = list(layer.params)
    flat = [torch.tensor(layer.params[n]).reshape(-1) for n in names]
    shapes = [layer.params[n].shape for n in names]

    def function(x_t: torch.Tensor, *vecs: torch.Tensor) -> torch.Tensor:
        params = {n: v.reshape(s) for n, v, s in zip(names, vecs, shapes, strict=True)}
        return torch_layer(x_t, params)

    jacobians = torch.autograd.functional.jacobian(function, (torch.tensor(x), *flat))
    assert relative_error(layer.input_jacobian(x), jacobians[0]) < TOLERANCE
    ours = layer.param_jacobians(x)
    for name, reference in zip(names, jacobians[1:], strict=True):
        assert relative_error(ours[name], reference) < TOLERANCE, name


# --------------------------------------------------------------------------- layers


def test_linear_layer() -> None:
    rng = np.random.default_rng(0)
    layer = Linear(rng.normal(size=(3, 5)), rng.normal(size=3))
    check_layer(layer, lambda x, p: F.linear(x, p["W"], p["b"]), rng.normal(size=5), rng)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 0), (1, 1), (2, 1)])
def test_conv2d_layer(stride: int, padding: int) -> None:
    rng = np.random.default_rng(1)
    shape = (2, 6, 5)
    layer = Conv2d(rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3), shape, stride, padding)

    def conv(x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        y = F.conv2d(x.reshape(1, *shape), p["W"], p["b"], stride=stride, padding=padding)
        assert y.shape[1:] == layer.output_shape
        return y.reshape(-1)

    check_layer(layer, conv, rng.normal(size=np.prod(shape)), rng)


@pytest.mark.parametrize(("pool", "torch_pool", "stride"),
                         [(AvgPool2d, F.avg_pool2d, None), (AvgPool2d, F.avg_pool2d, 1),
                          (MaxPool2d, F.max_pool2d, None), (MaxPool2d, F.max_pool2d, 1)])
def test_pool_layers(pool: type, torch_pool: Callable, stride: int | None) -> None:
    rng = np.random.default_rng(2)
    shape = (2, 4, 6)
    layer = pool(2, shape, stride)

    def function(x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch_pool(x.reshape(1, *shape), 2, stride).reshape(-1)

    check_layer(layer, function, rng.normal(size=np.prod(shape)), rng)


@pytest.mark.parametrize(("layer", "function"),
                         [(Identity(), lambda x, p: x), (Tanh(), lambda x, p: torch.tanh(x)),
                          (Sigmoid(), lambda x, p: torch.sigmoid(x)),
                          (ReLU(), lambda x, p: F.relu(x)),
                          (Softmax(), lambda x, p: F.softmax(x, dim=0))])
def test_parameter_free_layers(layer: Layer, function: TorchLayer) -> None:
    rng = np.random.default_rng(3)
    check_layer(layer, function, 2.0 * rng.normal(size=7), rng)


@pytest.mark.parametrize("alpha", [1.0, 2.5])
def test_student_t_layer(alpha: float) -> None:
    rng = np.random.default_rng(4)
    layer = StudentTAssignment(rng.normal(size=(4, 3)), alpha)

    def assign(z: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        return student_t_assignment(z[None], p["centres"], alpha)[0]

    check_layer(layer, assign, rng.normal(size=3), rng)


# --------------------------------------------------------------------------- losses


def test_softmax_cross_entropy_loss() -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(size=6)
    for target in (one_hot(4, 6), rng.dirichlet(np.ones(6))):
        assert_matches_autograd([Identity()], [lambda x, p: x], z, target, SoftmaxCrossEntropy(),
                                lambda y, t=target: F.cross_entropy(y[None], torch.tensor(t)[None]))
    np.testing.assert_allclose(SoftmaxCrossEntropy().row(z, one_hot(4, 6))[0],
                               np.exp(z) / np.exp(z).sum() - one_hot(4, 6), rtol=1e-14)


def test_cross_entropy_loss() -> None:
    rng = np.random.default_rng(6)
    s = rng.dirichlet(np.ones(5))
    t = rng.dirichlet(np.ones(5))
    t[1] = 0.0
    assert_matches_autograd([Identity()], [lambda x, p: x], s, t, CrossEntropy(),
                            lambda y: -(torch.tensor(t) * torch.log(y)).sum())


def test_kl_clustering_loss() -> None:
    rng = np.random.default_rng(7)
    q, p = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    assert_matches_autograd([Identity()], [lambda x, _: x], q, p, KLClustering(),
                            lambda y: kl_clustering_loss(y[None], torch.tensor(p)[None]))


def test_mse_loss() -> None:
    rng = np.random.default_rng(8)
    y, t = rng.normal(size=9), rng.normal(size=9)
    assert_matches_autograd([Identity()], [lambda x, _: x], y, t, MSE(),
                            lambda v: F.mse_loss(v, torch.tensor(t)))


def balanced_case(rng: np.random.Generator, size: int = 36) -> tuple[np.ndarray, BalancedTarget]:
    radar_mask = rng.random(size) < 0.3
    target = BalancedTarget(rng.normal(size=size), ~radar_mask, rng.normal(size=size),
                            radar_mask)
    return rng.normal(size=size), target


@pytest.mark.parametrize("detach", [False, True])
def test_balanced_loss_matches_project_loss(detach: bool) -> None:
    """BalancedLoss.row equals autograd through cryolearn.bedtopo.loss.balanced_loss."""
    assert BALANCED_EPSILON == EPSILON
    rng = np.random.default_rng(9)
    prediction, target = balanced_case(rng)

    def grid(v: np.ndarray) -> torch.Tensor:
        return torch.tensor(v).reshape(1, 1, 6, 6)

    prediction_t = grid(prediction).requires_grad_(True)
    terms = balanced_loss(prediction_t, grid(target.bedmachine),
                          grid(target.bedmachine_mask), grid(target.radar),
                          grid(target.radar_mask), detach=detach)
    terms.total.backward()
    loss = BalancedLoss(detach=detach)
    assert loss.value(prediction, target) == pytest.approx(terms.total.item(), rel=1e-12)
    row = loss.row(prediction, target)
    assert row.shape == (1, 36)
    assert relative_error(row[0], prediction_t.grad.reshape(-1)) < TOLERANCE


def test_balanced_loss_through_a_network() -> None:
    rng = np.random.default_rng(10)
    x = rng.normal(size=8)
    _, target = balanced_case(rng, 16)
    layers = [Linear(rng.normal(size=(16, 8)), rng.normal(size=16))]

    def total(y: torch.Tensor) -> torch.Tensor:
        def grid(v: np.ndarray | torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(v).reshape(1, 1, 4, 4)
        return balanced_loss(grid(y), grid(target.bedmachine), grid(target.bedmachine_mask),
                             grid(target.radar), grid(target.radar_mask)).total

    assert_matches_autograd(layers, [lambda v, p: F.linear(v, p["W"], p["b"])], x, target,
                            BalancedLoss(), total)


# --------------------------------------------------------------------------- networks


def test_conv_tanh_linear_softmax_cross_entropy() -> None:
    rng = np.random.default_rng(11)
    shape = (2, 7, 7)
    conv = Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), shape, 2, 1)
    features = int(np.prod(conv.output_shape))
    layers = [conv, Tanh(), Linear(rng.normal(size=(4, features)), rng.normal(size=4))]
    torch_layers: list[TorchLayer] = [
        lambda x, p: F.conv2d(x.reshape(1, *shape), p["W"], p["b"], stride=2,
                              padding=1).reshape(-1),
        lambda x, p: torch.tanh(x),
        lambda x, p: F.linear(x, p["W"], p["b"])]
    target = one_hot(1, 4)
    assert_matches_autograd(layers, torch_layers, rng.normal(size=np.prod(shape)), target,
                            SoftmaxCrossEntropy(),
                            lambda y: F.cross_entropy(y[None], torch.tensor([1])))
    # the same with a Softmax layer and the cross-entropy on probabilities
    assert_matches_autograd([*layers, Softmax()],
                            [*torch_layers, lambda x, p: F.softmax(x, dim=0)],
                            rng.normal(size=np.prod(shape)), target, CrossEntropy(),
                            lambda s: -torch.log(s[1]))


def test_conv_relu_maxpool_linear() -> None:
    rng = np.random.default_rng(12)
    shape = (1, 6, 6)
    conv = Conv2d(rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2), shape, 1, 1)
    pool = MaxPool2d(2, conv.output_shape)
    layers = [conv, ReLU(), pool, Linear(rng.normal(size=(3, 18)), rng.normal(size=3))]
    torch_layers: list[TorchLayer] = [
        lambda x, p: F.conv2d(x.reshape(1, *shape), p["W"], p["b"], padding=1).reshape(-1),
        lambda x, p: F.relu(x),
        lambda x, p: F.max_pool2d(x.reshape(1, 2, 6, 6), 2).reshape(-1),
        lambda x, p: F.linear(x, p["W"], p["b"])]
    assert_matches_autograd(layers, torch_layers, rng.normal(size=36), one_hot(0, 3),
                            SoftmaxCrossEntropy(),
                            lambda y: F.cross_entropy(y[None], torch.tensor([0])))


def clustering_network(rng: np.random.Generator,
                       alpha: float = 1.0) -> tuple[list[Layer], list[TorchLayer]]:
    layers = [Linear(rng.normal(size=(5, 6)), rng.normal(size=5)), Sigmoid(),
              Linear(rng.normal(size=(3, 5)), rng.normal(size=3)),
              StudentTAssignment(rng.normal(size=(4, 3)), alpha)]
    torch_layers: list[TorchLayer] = [
        lambda x, p: F.linear(x, p["W"], p["b"]), lambda x, p: torch.sigmoid(x),
        lambda x, p: F.linear(x, p["W"], p["b"]),
        lambda z, p: student_t_assignment(z[None], p["centres"], alpha)[0]]
    return layers, torch_layers


def test_linear_sigmoid_linear_student_t_kl() -> None:
    rng = np.random.default_rng(13)
    layers, torch_layers = clustering_network(rng, alpha=1.5)
    p = rng.dirichlet(np.ones(4))
    assert_matches_autograd(layers, torch_layers, rng.normal(size=6), p, KLClustering(),
                            lambda q: (torch.tensor(p) * torch.log(torch.tensor(p) / q)).sum())


def test_three_layer_mlp_mse() -> None:
    rng = np.random.default_rng(14)
    layers = [Linear(rng.normal(size=(8, 5)), rng.normal(size=8)), Tanh(),
              Linear(rng.normal(size=(6, 8)), rng.normal(size=6)), ReLU(),
              Linear(rng.normal(size=(2, 6)), rng.normal(size=2))]
    torch_layers: list[TorchLayer] = [
        lambda x, p: F.linear(x, p["W"], p["b"]), lambda x, p: torch.tanh(x),
        lambda x, p: F.linear(x, p["W"], p["b"]), lambda x, p: F.relu(x),
        lambda x, p: F.linear(x, p["W"], p["b"])]
    t = rng.normal(size=2)
    assert_matches_autograd(layers, torch_layers, rng.normal(size=5), t, MSE(),
                            lambda y: F.mse_loss(y, torch.tensor(t)))


def test_chained_input_jacobian() -> None:
    rng = np.random.default_rng(15)
    layers, torch_layers = clustering_network(rng)
    x = rng.normal(size=6)
    params = [as_tensors(layer.params) for layer in layers]

    def function(x_t: torch.Tensor) -> torch.Tensor:
        for torch_layer, p in zip(torch_layers, params, strict=True):
            x_t = torch_layer(x_t, p)
        return x_t

    reference = torch.autograd.functional.jacobian(function, torch.tensor(x))
    product = chain_input_jacobians(layers, x)
    assert product.shape == (4, 6)
    assert relative_error(product, reference) < TOLERANCE
    np.testing.assert_array_equal(Network(layers).input_jacobian(x), product)


# --------------------------------------------------------------------------- project layers


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_gradient_matches_dec_clustering(reduction: str) -> None:
    """Centres and embedding gradients of DEC's batch loss (cryolearn.nn.clustering)."""
    rng = np.random.default_rng(16)
    Z, centres = rng.normal(size=(10, 3)), rng.normal(size=(4, 3))
    z_t = torch.tensor(Z, requires_grad=True)
    centres_t = torch.tensor(centres, requires_grad=True)
    q_t = student_t_assignment(z_t, centres_t, 1.0)
    p_t = target_distribution(q_t)
    loss_t = kl_clustering_loss(q_t, p_t) * (Z.shape[0] if reduction == "sum" else 1)
    loss_t.backward()
    network = Network([StudentTAssignment(centres)])
    P = p_t.numpy()
    np.testing.assert_allclose([network.output(z) for z in Z], q_t.detach().numpy(),
                               rtol=1e-13)
    assert network.batch_loss(Z, P, KLClustering(), reduction) == pytest.approx(
        loss_t.item(), rel=1e-12)
    gradients, input_gradients = network.batch_backward(Z, P, KLClustering(), reduction)
    assert relative_error(gradients[0]["centres"], centres_t.grad) < TOLERANCE
    assert relative_error(input_gradients, z_t.grad) < TOLERANCE
    np.testing.assert_array_equal(
        network.batch_gradient(Z, P, KLClustering(), reduction)[0]["centres"],
        gradients[0]["centres"])
    np.testing.assert_array_equal(
        network.batch_input_gradient(Z, P, KLClustering(), reduction), input_gradients)


def test_batch_gradient_of_an_encoder_with_dec() -> None:
    rng = np.random.default_rng(17)
    layers, torch_layers = clustering_network(rng)
    X = rng.normal(size=(7, 6))
    params = [as_tensors(layer.params) for layer in layers]
    q_t = []
    for x in X:
        y = torch.tensor(x)
        for torch_layer, p in zip(torch_layers, params, strict=True):
            y = torch_layer(y, p)
        q_t.append(y)
    q_t = torch.stack(q_t)
    p_t = target_distribution(q_t)
    kl_clustering_loss(q_t, p_t).backward()
    gradients = Network(layers).batch_gradient(X, p_t.numpy(), KLClustering())
    for ours, theirs in zip(gradients, params, strict=True):
        for name, tensor in theirs.items():
            assert relative_error(ours[name], tensor.grad) < TOLERANCE


# --------------------------------------------------------------------------- by hand


def test_worked_example_one_layer_softmax_cross_entropy() -> None:
    """z = W x + b, s = softmax(z), L = −log s_c for a 4 → 3 layer and class c = 2.

    x = [1, 0, −1, 2] gives the logits z = [1, 1, 0], so s = [e, e, 1] / (2e + 1)
    and L = log(2e + 1). The gradients are ∂L/∂b = s − e_c and ∂L/∂W = (s − e_c) xᵀ.
    """
    x = np.array([1.0, 0.0, -1.0, 2.0])
    W = np.array([[1.0, 0.0, 0.0, 0.0],
                  [0.0, 1.0, 1.0, 1.0],
                  [0.0, 0.0, 1.0, 0.0]])
    b = np.array([0.0, 0.0, 1.0])
    c = 2
    layer = Linear(W, b)
    np.testing.assert_array_equal(layer.forward(x), [1.0, 1.0, 0.0])

    e = math.exp(1.0)
    s = np.array([e, e, 1.0]) / (2 * e + 1)                   # ≈ [0.4223, 0.4223, 0.1554]
    np.testing.assert_allclose(s, [0.4223187982, 0.4223187982, 0.1553624035], atol=1e-10)
    network = Network([layer, Softmax()])
    np.testing.assert_allclose(network.output(x), s, rtol=1e-15)
    assert network.loss(x, one_hot(c, 3), CrossEntropy()) == pytest.approx(math.log(2 * e + 1))

    grad_b = np.array([e, e, -2 * e]) / (2 * e + 1)             # s − e_c
    grad_W = np.outer(grad_b, x)                                # (s − e_c) xᵀ
    np.testing.assert_allclose(grad_W[:, 3], [0.8446375965, 0.8446375965, -1.6892751930],
                               atol=1e-10)
    for net, loss in ((network, CrossEntropy()), (Network([layer]), SoftmaxCrossEntropy())):
        (gradient, *_) = net.gradient(x, one_hot(c, 3), loss)
        np.testing.assert_allclose(gradient["b"], grad_b, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(gradient["W"], grad_W, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(net.input_gradient(x, one_hot(c, 3), loss), grad_b @ W,
                                   rtol=1e-14, atol=1e-15)

    # the Jacobians being chained: ∂z/∂x = W, ∂z/∂vec(W) = I₃ ⊗ xᵀ, ∂s/∂z
    assert layer.input_jacobian(x).shape == (3, 4)
    param = layer.param_jacobians(x)
    assert param["W"].shape == (3, 12)
    np.testing.assert_array_equal(param["W"][1], [0, 0, 0, 0, 1, 0, -1, 2, 0, 0, 0, 0])
    np.testing.assert_array_equal(param["b"], np.eye(3))
    softmax_jacobian = Softmax().input_jacobian(layer.forward(x))
    assert softmax_jacobian.shape == (3, 3)
    np.testing.assert_allclose(softmax_jacobian, np.diag(s) - np.outer(s, s), rtol=1e-14)
    np.testing.assert_allclose(softmax_jacobian.sum(axis=1), 0.0, atol=1e-16)
    row = CrossEntropy().row(s, one_hot(c, 3))                  # [0, 0, −1/s_c]
    np.testing.assert_allclose(row, [[0.0, 0.0, -(2 * e + 1)]], rtol=1e-14)
    np.testing.assert_allclose(row @ softmax_jacobian, grad_b[None], rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------- properties


def test_student_t_assignments_sum_to_one() -> None:
    rng = np.random.default_rng(18)
    for alpha in (0.5, 1.0, 3.0):
        layer = StudentTAssignment(rng.normal(size=(5, 4)), alpha)
        for z in rng.normal(scale=3.0, size=(20, 4)):
            q = layer.forward(z)
            assert np.all(q > 0)
            assert q.sum() == pytest.approx(1.0, abs=1e-14)
            # moving z and every centre together changes nothing
            blocks = layer.param_jacobians(z)["centres"].reshape(5, 5, 4).sum(axis=1)
            np.testing.assert_allclose(blocks, -layer.input_jacobian(z), atol=1e-14)


def test_softmax_jacobian_rows_sum_to_zero() -> None:
    rng = np.random.default_rng(19)
    for x in rng.normal(scale=5.0, size=(20, 6)):
        jacobian = Softmax().input_jacobian(x)
        np.testing.assert_allclose(jacobian.sum(axis=1), 0.0, atol=1e-15)
        np.testing.assert_allclose(jacobian, jacobian.T, atol=0)


def test_linear_parameter_jacobian_is_a_kronecker_product() -> None:
    rng = np.random.default_rng(20)
    for m, n in ((1, 1), (3, 4), (5, 2)):
        x = rng.normal(size=n)
        layer = Linear(rng.normal(size=(m, n)))
        np.testing.assert_array_equal(layer.param_jacobians(x)["W"],
                                      np.kron(np.eye(m), x[None]))


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="1-D"):
        Network([Identity()]).forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channels"):
        Conv2d(np.zeros((1, 2, 3, 3)), None, (1, 5, 5))
    with pytest.raises(ValueError, match="does not fit"):
        Conv2d(np.zeros((1, 1, 3, 3)), None, (1, 2, 2))
    with pytest.raises(ValueError, match="reduction"):
        Network([Identity()]).batch_loss(np.zeros((2, 2)), [np.zeros(2)] * 2, MSE(), "max")
