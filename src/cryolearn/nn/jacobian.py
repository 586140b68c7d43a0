"""Gradients of a loss as explicit products of per-layer Jacobian matrices.

Damadi, Moharrer and Cham (2023), "The Backpropagation algorithm for a math
student": a network is a chain of maps x_l = f_l(x_{l−1}; θ_l), l = 1..L, on one
sample x_0, and the gradient of a loss L(x_L) with respect to the parameters of
layer l is the product of Jacobian matrices

    ∂L/∂vec(θ_l) = ∂L/∂x_L · J_L ··· J_{l+1} · ∂x_l/∂vec(θ_l),   J_l = ∂x_l/∂x_{l−1},

with ∂L/∂x_L a row vector. It is evaluated from the loss backwards with the row
δ_l = ∂L/∂x_l (1 × m_l):

    δ_L = ∂L/∂x_L,   ∂L/∂vec(θ_l) = δ_l · ∂x_l/∂vec(θ_l),   δ_{l−1} = δ_l · J_l.

Every Jacobian here is formed as an explicit dense float64 matrix, which is the
point of the module (a reference and a teaching aid, see ``docs/jacobian.md``),
not speed: reverse-mode autodiff computes the same row–Jacobian products without
ever forming the matrices.

Conventions
-----------
* Samples are 1-D vectors. A layer on spatial data takes the C × H × W array
  flattened in C order (row-major) and knows its shape.
* vec is the row-major (C-order) vectorisation, vec(W) = W.reshape(-1). For a
  linear layer y = W x + b with W (m, n) this gives ∂y/∂vec(W) = I_m ⊗ xᵀ
  (Kronecker product, (m, m·n)) and ∂y/∂b = I_m. A gradient row over vec(θ) is
  reshaped to θ's shape with the same convention.
* Batches are handled by summing or averaging the per-sample gradients.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import expit

#: ε of DeepTopoNet's balanced loss, equal to ``cryolearn.bedtopo.loss.EPSILON``
#: (repeated here so that this numpy module does not import torch).
BALANCED_EPSILON = 1e-4

Reduction = Literal["mean", "sum"]


def _vector(x: Any) -> np.ndarray:
    """``x`` as a 1-D float64 array."""
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {array.shape}")
    return array


# --------------------------------------------------------------------------- layers


class Layer(ABC):
    """One map y = f(x; θ) of a network, with its Jacobians.

    Attributes
    ----------
    params : dict[str, np.ndarray]
        The parameters θ by name (empty for a layer without parameters).
    """

    params: dict[str, np.ndarray]

    def __init__(self) -> None:
        self.params = {}

    @abstractmethod
    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = f(x; θ) for one sample: (n,) → (m,)."""

    @abstractmethod
    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        """∂y/∂x at ``x``, shape (m, n)."""

    def param_jacobians(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """∂y/∂vec(θ) at ``x`` for each parameter, shape (m, θ.size), row-major vec."""
        return {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(_vector(x))


class Linear(Layer):
    """y = W x + b.

    Parameters
    ----------
    W : (m, n) weights
    b : (m,) bias (zeros when omitted)

    Notes
    -----
    ∂y/∂x = W; with vec(W) = W.reshape(-1), y_i = Σ_j W_ij x_j depends on entry
    i·n + j of vec(W) through x_j only, so ∂y/∂vec(W) = I_m ⊗ xᵀ, (m, m·n);
    ∂y/∂b = I_m.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray | None = None) -> None:
        super().__init__()
        W = np.array(W, dtype=np.float64)
        if W.ndim != 2:
            raise ValueError(f"W must be (m, n), got shape {W.shape}")
        b = np.zeros(W.shape[0]) if b is None else np.array(b, dtype=np.float64)
        if b.shape != (W.shape[0],):
            raise ValueError(f"b must be ({W.shape[0]},), got shape {b.shape}")
        self.params = {"W": W, "b": b}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.params["W"] @ x + self.params["b"]

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        return self.params["W"].copy()

    def param_jacobians(self, x: np.ndarray) -> dict[str, np.ndarray]:
        m = self.params["W"].shape[0]
        return {"W": np.kron(np.eye(m), x[None, :]), "b": np.eye(m)}


def _patch_indices(shape: tuple[int, int, int], kernel: tuple[int, int], stride: int,
                   padding: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Flat input index of every patch entry, for im2col.

    Parameters
    ----------
    shape : (c, h, w) input shape
    kernel : (kh, kw) window
    stride, padding : as in ``torch.nn.functional.conv2d`` (zero padding)

    Returns
    -------
    index : (c·kh·kw, h_out·w_out) int array; row r = (channel, i, j) in C order,
        column l = (oy, ox) in C order; entries in the padding are c·h·w, the
        position of an appended zero.
    (h_out, w_out) : output size
    """
    c, h, w = shape
    kh, kw = kernel
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    if h_out < 1 or w_out < 1:
        raise ValueError(f"kernel {kernel} does not fit input {shape} with padding {padding}")
    channel, i, j = (a.reshape(-1, 1) for a in np.meshgrid(
        np.arange(c), np.arange(kh), np.arange(kw), indexing="ij"))
    oy, ox = (a.reshape(1, -1) for a in np.meshgrid(
        np.arange(h_out), np.arange(w_out), indexing="ij"))
    rows = oy * stride + i - padding
    cols = ox * stride + j - padding
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    flat = (channel * h + rows) * w + cols
    return np.where(inside, flat, c * h * w), (h_out, w_out)


class Conv2d(Layer):
    """2-D cross-correlation with zero padding, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    W : (c_out, c_in, kh, kw) kernels
    b : (c_out,) bias (zeros when omitted)
    input_shape : (c_in, h, w); the layer takes the flattened (c_in·h·w,) vector
    stride, padding : as in torch (same in both directions)

    Notes
    -----
    With the im2col patch matrix P(x) (c_in·kh·kw, h_out·w_out), whose column l
    is the input window under output position l, the output is
    Y = W_mat P + b 1ᵀ with W_mat = W.reshape(c_out, -1), and y = vec(Y)
    (c_out·h_out·w_out,). As for a linear layer, ∂y/∂vec(W) = I_{c_out} ⊗ Pᵀ and
    ∂y/∂b = I_{c_out} ⊗ 1 (a column of h_out·w_out ones). P is a selection of
    the entries of x, so ∂Y[o, l]/∂x[p] = W_mat[o, r] for the unique kernel
    offset r that puts input p under output position l (0 if none).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray | None, input_shape: tuple[int, int, int],
                 stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        W = np.array(W, dtype=np.float64)
        if W.ndim != 4:
            raise ValueError(f"W must be (c_out, c_in, kh, kw), got shape {W.shape}")
        c_out, c_in, kh, kw = W.shape
        if input_shape[0] != c_in:
            raise ValueError(f"input has {input_shape[0]} channels, W expects {c_in}")
        b = np.zeros(c_out) if b is None else np.array(b, dtype=np.float64)
        self.params = {"W": W, "b": b}
        self.input_shape = tuple(input_shape)
        self.stride, self.padding = stride, padding
        self._index, (h_out, w_out) = _patch_indices(self.input_shape, (kh, kw), stride,
                                                     padding)
        self.output_shape = (c_out, h_out, w_out)

    def patches(self, x: np.ndarray) -> np.ndarray:
        """The im2col matrix P(x), (c_in·kh·kw, h_out·w_out)."""
        return np.append(x, 0.0)[self._index]

    def _weight_matrix(self) -> np.ndarray:
        return self.params["W"].reshape(self.params["W"].shape[0], -1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = self._weight_matrix() @ self.patches(x) + self.params["b"][:, None]
        return y.reshape(-1)

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        weights = self._weight_matrix()
        n = x.size
        offset, position = np.indices(self._index.shape)
        jacobian = np.zeros((weights.shape[0], self._index.shape[1], n + 1))
        jacobian[:, position.ravel(), self._index.ravel()] = weights[:, offset.ravel()]
        return jacobian[:, :, :n].reshape(-1, n)

    def param_jacobians(self, x: np.ndarray) -> dict[str, np.ndarray]:
        c_out = self.params["W"].shape[0]
        positions = self._index.shape[1]
        return {"W": np.kron(np.eye(c_out), self.patches(x).T),
                "b": np.kron(np.eye(c_out), np.ones((positions, 1)))}


class _Pool2d(Layer):
    """Shared geometry of the pooling layers (no padding, per channel).

    Parameters
    ----------
    kernel : window side k
    input_shape : (c, h, w); the layer takes the flattened (c·h·w,) vector
    stride : window step (k when omitted)
    """

    def __init__(self, kernel: int, input_shape: tuple[int, int, int],
                 stride: int | None = None) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.kernel = kernel
        self.stride = kernel if stride is None else stride
        index, (h_out, w_out) = _patch_indices((1, *self.input_shape[1:]), (kernel, kernel),
                                               self.stride, 0)
        channels = self.input_shape[0]
        offsets = np.arange(channels)[:, None, None] * (self.input_shape[1]
                                                        * self.input_shape[2])
        self._index = index[None] + offsets  # (c, k·k, h_out·w_out)
        self.output_shape = (channels, h_out, w_out)

    def _windows(self, x: np.ndarray) -> np.ndarray:
        return x[self._index]


class AvgPool2d(_Pool2d):
    """Mean over k × k windows, as ``torch.nn.functional.avg_pool2d`` (no padding).

    Notes
    -----
    A fixed linear map: ∂y[c, l]/∂x[p] = 1/k² for p in window l of channel c.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._windows(x).mean(axis=1).reshape(-1)

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        channels, area, positions = self._index.shape
        jacobian = np.zeros((channels, positions, x.size))
        channel = np.arange(channels)[:, None, None]
        position = np.arange(positions)[None, None, :]
        jacobian[channel, position, self._index] = 1.0 / area
        return jacobian.reshape(-1, x.size)


class MaxPool2d(_Pool2d):
    """Maximum over k × k windows, as ``torch.nn.functional.max_pool2d`` (no padding).

    Notes
    -----
    ∂y[c, l]/∂x[p] = 1 where p is the arg-max of window l of channel c, else 0
    (defined where the maximum is unique).
    """

    def _argmax(self, x: np.ndarray) -> np.ndarray:
        best = self._windows(x).argmax(axis=1)[:, None, :]
        return np.take_along_axis(self._index, best, axis=1)[:, 0, :]

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x[self._argmax(x)].reshape(-1)

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        winners = self._argmax(x)
        channels, positions = winners.shape
        jacobian = np.zeros((channels, positions, x.size))
        jacobian[np.arange(channels)[:, None], np.arange(positions)[None, :], winners] = 1.0
        return jacobian.reshape(-1, x.size)


class Elementwise(Layer):
    """y_i = f(x_i): the Jacobian is diagonal, ∂y/∂x = diag(f'(x))."""

    @abstractmethod
    def function(self, x: np.ndarray) -> np.ndarray:
        """f applied to each entry."""

    @abstractmethod
    def derivative(self, x: np.ndarray) -> np.ndarray:
        """f' applied to each entry."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.function(x)

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        return np.diag(self.derivative(x))


class Identity(Elementwise):
    """f(x) = x, f' = 1."""

    def function(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def derivative(self, x: np.ndarray) -> np.ndarray:
        return np.ones_like(x)


class Tanh(Elementwise):
    """f = tanh, f' = 1 − tanh²."""

    def function(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def derivative(self, x: np.ndarray) -> np.ndarray:
        return 1.0 - np.tanh(x) ** 2


class Sigmoid(Elementwise):
    """f = σ = 1 / (1 + e^−x), f' = σ (1 − σ)."""

    def function(self, x: np.ndarray) -> np.ndarray:
        return expit(x)

    def derivative(self, x: np.ndarray) -> np.ndarray:
        s = expit(x)
        return s * (1.0 - s)


class ReLU(Elementwise):
    """f = max(x, 0), f' = 1 for x > 0 and 0 otherwise (0 at 0, as torch)."""

    def function(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def derivative(self, x: np.ndarray) -> np.ndarray:
        return (x > 0).astype(np.float64)


def softmax(x: np.ndarray) -> np.ndarray:
    """s_i = e^{x_i} / Σ_j e^{x_j} of a vector (n,), computed without overflow."""
    e = np.exp(x - x.max())
    return e / e.sum()


class Softmax(Layer):
    """s = softmax(x); ∂s/∂x = diag(s) − s sᵀ (symmetric, rows summing to 0)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return softmax(x)

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        s = softmax(x)
        return np.diag(s) - np.outer(s, s)


class StudentTAssignment(Layer):
    """DEC's soft assignment of one embedding z (d,) to k centres μ_j: q (k,).

    q_j = κ_j / Σ_i κ_i,   κ_j = (1 + ‖z − μ_j‖² / α)^(−(α+1)/2).

    Parameters
    ----------
    centres : (k, d) centres μ (the parameter ``"centres"``, vec row-major)
    alpha : degrees of freedom α of the Student's t kernel

    Notes
    -----
    With d_j = ‖z − μ_j‖², log κ_j = −(α+1)/2 · log(1 + d_j/α), so
    ∂log κ_j/∂z = −u_j with u_j = (α+1)/(α + d_j) · (z − μ_j), and
    ∂log κ_j/∂μ_i = δ_ij u_j. Since log q_j = log κ_j − log Σ_i κ_i and
    ∂q_j = q_j ∂log q_j, with A = diag(q) − q qᵀ (the softmax Jacobian) and U the
    (k, d) matrix of rows u_j:

    * ∂q/∂z = −A U, (k, d);
    * ∂q_j/∂μ_i = A_ji u_iᵀ, so ∂q/∂vec(μ) is the (k, k·d) matrix whose block
      column i is A[:, i] u_iᵀ. The blocks sum to −∂q/∂z (shifting z and all
      the centres together changes nothing).
    """

    def __init__(self, centres: np.ndarray, alpha: float = 1.0) -> None:
        super().__init__()
        centres = np.array(centres, dtype=np.float64)
        if centres.ndim != 2:
            raise ValueError(f"centres must be (k, d), got shape {centres.shape}")
        self.params = {"centres": centres}
        self.alpha = float(alpha)

    def _terms(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """q (k,) and U (k, d) at ``z``."""
        difference = z[None, :] - self.params["centres"]
        squared = (difference**2).sum(axis=1)
        kernel = (1.0 + squared / self.alpha) ** (-(self.alpha + 1.0) / 2.0)
        u = ((self.alpha + 1.0) / (self.alpha + squared))[:, None] * difference
        return kernel / kernel.sum(), u

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._terms(x)[0]

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        q, u = self._terms(x)
        return -(np.diag(q) - np.outer(q, q)) @ u

    def param_jacobians(self, x: np.ndarray) -> dict[str, np.ndarray]:
        q, u = self._terms(x)
        a = np.diag(q) - np.outer(q, q)
        k, d = u.shape
        return {"centres": (a[:, :, None] * u[None, :, :]).reshape(k, k * d)}


# --------------------------------------------------------------------------- losses


class Loss(ABC):
    """A scalar loss L(y, target) of the network output y (m,) for one sample."""

    @abstractmethod
    def value(self, y: np.ndarray, target: Any) -> float:
        """L(y, target)."""

    @abstractmethod
    def row(self, y: np.ndarray, target: Any) -> np.ndarray:
        """∂L/∂y as a row vector, (1, m)."""


class CrossEntropy(Loss):
    """L = −Σ_i t_i log s_i on probabilities s; ∂L/∂s = −(t / s)ᵀ.

    Entries with t_i = 0 contribute nothing (0 log 0 = 0).
    """

    def value(self, y: np.ndarray, target: np.ndarray) -> float:
        t = _vector(target)
        logs = np.log(np.where(t > 0, y, 1.0))
        return float(-(t * logs).sum())

    def row(self, y: np.ndarray, target: np.ndarray) -> np.ndarray:
        t = _vector(target)
        return np.where(t > 0, -t / np.where(t > 0, y, 1.0), 0.0)[None, :]


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(z) on logits z: L = −Σ_i t_i log softmax(z)_i.

    ∂L/∂z = (s Σ_i t_i − t)ᵀ with s = softmax(z), which is (s − t)ᵀ for a
    probability vector t (the softmax Jacobian diag(s) − s sᵀ times −t/s).
    """

    def value(self, y: np.ndarray, target: np.ndarray) -> float:
        t = _vector(target)
        top = y.max()
        log_sum = top + np.log(np.exp(y - top).sum())
        return float((t * (log_sum - y)).sum())

    def row(self, y: np.ndarray, target: np.ndarray) -> np.ndarray:
        t = _vector(target)
        return (softmax(y) * t.sum() - t)[None, :]


class KLClustering(Loss):
    """DEC's loss of one sample, L = Σ_j p_j log(p_j / q_j), target p held constant.

    ∂L/∂q = −(p / q)ᵀ; entries with p_j = 0 contribute nothing. Over a batch DEC
    averages (``reduction="mean"``).
    """

    def value(self, y: np.ndarray, target: np.ndarray) -> float:
        p = _vector(target)
        ratio = np.where(p > 0, p / np.where(p > 0, y, 1.0), 1.0)
        return float((p * np.log(ratio)).sum())

    def row(self, y: np.ndarray, target: np.ndarray) -> np.ndarray:
        p = _vector(target)
        return np.where(p > 0, -p / np.where(p > 0, y, 1.0), 0.0)[None, :]


class MSE(Loss):
    """L = (1/m) Σ_i (y_i − t_i)²; ∂L/∂y = (2/m) (y − t)ᵀ."""

    def value(self, y: np.ndarray, target: np.ndarray) -> float:
        return float(np.mean((y - _vector(target)) ** 2))

    def row(self, y: np.ndarray, target: np.ndarray) -> np.ndarray:
        return (2.0 / y.size * (y - _vector(target)))[None, :]


@dataclass
class BalancedTarget:
    """Targets of DeepTopoNet's balanced loss, all (m,) on the prediction's cells.

    Attributes
    ----------
    bedmachine, bedmachine_mask : BedMachine bed and the cells of L_b
    radar, radar_mask : radar-pixel target and the cells of L_r
    """

    bedmachine: np.ndarray
    bedmachine_mask: np.ndarray
    radar: np.ndarray
    radar_mask: np.ndarray


def _masked_mse(y: np.ndarray, target: np.ndarray,
                mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Masked mean squared error and its gradient (m,); 0 for an empty mask."""
    mask = np.asarray(mask, dtype=bool)
    count = max(float(mask.sum()), 1.0)
    residual = np.where(mask, y - np.asarray(target, dtype=np.float64), 0.0)
    return float((residual**2).sum() / count), 2.0 * residual / count


class BalancedLoss(Loss):
    """DeepTopoNet's γ-balanced loss (``cryolearn.bedtopo.loss``), same-size grids.

    L_r, L_b are the mean squared errors over the radar and BedMachine cells,
    D = L_r + L_b + ε, and L = γ_r L_r + γ_b L_b with γ_r = L_b / D and
    γ_b = L_r / D, i.e. L = 2 L_r L_b / D. With γ not detached,

        ∂L/∂L_r = 2 L_b (L_b + ε) / D²,   ∂L/∂L_b = 2 L_r (L_r + ε) / D²,

    and ∂L/∂y = ∂L/∂L_r ∇L_r + ∂L/∂L_b ∇L_b with ∇L_r = 2 m_r ⊙ (y − r) / n_r
    (m_r the radar mask, n_r = max(Σ m_r, 1)), likewise for ∇L_b. With
    ``detach=True`` the weights are constants: ∂L/∂L_r = γ_r, ∂L/∂L_b = γ_b.

    Parameters
    ----------
    eps : the ε of the weights
    detach : treat γ_r and γ_b as constants

    Notes
    -----
    The target is a ``BalancedTarget`` (the prediction y is the flattened grid).
    """

    def __init__(self, eps: float = BALANCED_EPSILON, detach: bool = False) -> None:
        self.eps = eps
        self.detach = detach

    def _terms(self, y: np.ndarray, target: BalancedTarget) -> tuple[float, ...]:
        loss_r, grad_r = _masked_mse(y, target.radar, target.radar_mask)
        loss_b, grad_b = _masked_mse(y, target.bedmachine, target.bedmachine_mask)
        return loss_r, grad_r, loss_b, grad_b, loss_r + loss_b + self.eps

    def value(self, y: np.ndarray, target: BalancedTarget) -> float:
        loss_r, _, loss_b, _, denominator = self._terms(y, target)
        return 2.0 * loss_r * loss_b / denominator

    def row(self, y: np.ndarray, target: BalancedTarget) -> np.ndarray:
        loss_r, grad_r, loss_b, grad_b, denominator = self._terms(y, target)
        if self.detach:
            weight_r, weight_b = loss_b / denominator, loss_r / denominator
        else:
            weight_r = 2.0 * loss_b * (loss_b + self.eps) / denominator**2
            weight_b = 2.0 * loss_r * (loss_r + self.eps) / denominator**2
        return (weight_r * grad_r + weight_b * grad_b)[None, :]


def one_hot(index: int, size: int) -> np.ndarray:
    """The unit vector e_index of length ``size`` (a class target)."""
    target = np.zeros(size)
    target[index] = 1.0
    return target


# --------------------------------------------------------------------------- network


def chain_input_jacobians(layers: Sequence[Layer], x: np.ndarray) -> np.ndarray:
    """The network's input Jacobian ∂x_L/∂x_0 = J_L ··· J_1 as an explicit product.

    Parameters
    ----------
    layers : the layers f_1 … f_L
    x : (n_0,) input x_0

    Returns
    -------
    (m_L, n_0) matrix
    """
    x = _vector(x)
    product = np.eye(x.size)
    for layer in layers:
        product = layer.input_jacobian(x) @ product
        x = layer.forward(x)
    return product


class Network:
    """A chain of layers x_l = f_l(x_{l−1}; θ_l), differentiated by Jacobian products.

    Parameters
    ----------
    layers : the layers f_1 … f_L
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """All activations [x_0, x_1, …, x_L] for one input x_0 (n_0,)."""
        activations = [_vector(x)]
        for layer in self.layers:
            activations.append(layer.forward(activations[-1]))
        return activations

    def output(self, x: np.ndarray) -> np.ndarray:
        """x_L (m_L,)."""
        return self.forward(x)[-1]

    def loss(self, x: np.ndarray, target: Any, loss: Loss) -> float:
        """L(x_L, target) for one sample."""
        return loss.value(self.output(x), target)

    def backward(self, x: np.ndarray, target: Any,
                 loss: Loss) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
        """Parameter gradients of every layer and ∂L/∂x_0, for one sample.

        δ = ∂L/∂x_L (1 × m_L); for l = L … 1: ∂L/∂vec(θ_l) = δ · ∂x_l/∂vec(θ_l),
        reshaped to θ_l's shape (row-major), then δ ← δ · J_l.

        Returns
        -------
        gradients : one dict per layer, name → array of the parameter's shape
        input_gradient : (n_0,) ∂L/∂x_0
        """
        activations = self.forward(x)
        delta = loss.row(activations[-1], target)
        gradients: list[dict[str, np.ndarray]] = []
        for layer, x_in in zip(reversed(self.layers), reversed(activations[:-1]), strict=True):
            jacobians = layer.param_jacobians(x_in)
            gradients.append({name: (delta @ jacobians[name]).reshape(value.shape)
                              for name, value in layer.params.items()})
            delta = delta @ layer.input_jacobian(x_in)
        return gradients[::-1], delta[0]

    def gradient(self, x: np.ndarray, target: Any, loss: Loss) -> list[dict[str, np.ndarray]]:
        """∂L/∂θ_l of every layer l (one dict per layer, arrays shaped as the params)."""
        return self.backward(x, target, loss)[0]

    def input_gradient(self, x: np.ndarray, target: Any, loss: Loss) -> np.ndarray:
        """∂L/∂x_0, (n_0,)."""
        return self.backward(x, target, loss)[1]

    def input_jacobian(self, x: np.ndarray) -> np.ndarray:
        """J_L ··· J_1 at ``x``, (m_L, n_0); see ``chain_input_jacobians``."""
        return chain_input_jacobians(self.layers, x)

    def batch_loss(self, X: np.ndarray, targets: Sequence[Any], loss: Loss,
                   reduction: Reduction = "mean") -> float:
        """Sum or mean over the rows of X (N, n_0) of the per-sample losses."""
        total = sum(self.loss(x, t, loss) for x, t in zip(X, targets, strict=True))
        return total / _scale(len(X), reduction)

    def batch_backward(self, X: np.ndarray, targets: Sequence[Any], loss: Loss,
                       reduction: Reduction = "mean"
                       ) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
        """Parameter gradients and input gradients (N, n_0) of ``batch_loss``.

        The parameter gradients are the sum (or mean) of the per-sample ones; row i
        of the input gradients is sample i's ∂L/∂x_0 (divided by N for the mean).
        """
        scale = _scale(len(X), reduction)
        total: list[dict[str, np.ndarray]] = [
            {name: np.zeros_like(value) for name, value in layer.params.items()}
            for layer in self.layers]
        inputs = []
        for x, t in zip(X, targets, strict=True):
            gradients, input_gradient = self.backward(x, t, loss)
            for accumulated, gradient in zip(total, gradients, strict=True):
                for name in accumulated:
                    accumulated[name] += gradient[name] / scale
            inputs.append(input_gradient / scale)
        return total, np.array(inputs)

    def batch_gradient(self, X: np.ndarray, targets: Sequence[Any], loss: Loss,
                       reduction: Reduction = "mean") -> list[dict[str, np.ndarray]]:
        """Sum or mean over the rows of X (N, n_0) of the per-sample ``gradient``."""
        return self.batch_backward(X, targets, loss, reduction)[0]

    def batch_input_gradient(self, X: np.ndarray, targets: Sequence[Any], loss: Loss,
                             reduction: Reduction = "mean") -> np.ndarray:
        """∂(batch loss)/∂X, (N, n_0)."""
        return self.batch_backward(X, targets, loss, reduction)[1]


def _scale(count: int, reduction: Reduction) -> float:
    if reduction == "mean":
        return float(count)
    if reduction == "sum":
        return 1.0
    raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
