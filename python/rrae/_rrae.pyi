"""Type hints of the native half of the package (python/src/lib.rs)."""

import os
from typing import Any, Dict, List, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

ArrayLike = npt.ArrayLike
Float32Array = npt.NDArray[np.float32]

class Model:
    """An opened artifact: the file read into memory, validated when opened."""

    @property
    def input_shape(self) -> List[int]:
        """One sample's shape, e.g. ``[1, 64, 64]``."""
    @property
    def latent_dim(self) -> int:
        """L, the latent length."""
    @property
    def k(self) -> int:
        """The number of coefficients ``encode`` gives: k with a basis, L without."""
    @property
    def metadata(self) -> Dict[str, Any]:
        """The model, its source, the normalisation, the data set and the training summary."""
    def encode(self, x: ArrayLike) -> Float32Array:
        """Bottleneck coefficients of samples in original units: ``(n, *input)`` → ``(n, k)``."""
    def decode(self, alpha: ArrayLike) -> Float32Array:
        """Samples decoded from coefficients: ``(n, k)`` → ``(n, *input)``."""
    def reconstruct(self, x: ArrayLike) -> Float32Array:
        """``decode(encode(x))``, shaped as ``x``'s samples."""
    def interpolate(self, a: ArrayLike, b: ArrayLike, points: int) -> Float32Array:
        """``points`` samples between ``a`` and ``b``, linear in the coefficients: ``(points, *input)``."""
    @property
    def parameters(self) -> int:
        """The number of physical parameters trained over (0: no reduced-order path)."""
    def decode_at(self, p: Sequence[float]) -> Float32Array:
        """The decoded field at physical parameters ``p``: the reduced-order model."""
    def coefficients_at(self, p: Sequence[float]) -> Float32Array:
        """The basis coefficients at physical parameters ``p``: ``(k,)``."""
    def sample(self, n: int, seed: int = 0) -> Float32Array:
        """``n`` samples decoded from N(mean, cov) of the training coefficients (a VAE's or VRRAE's prior N(0, I) unless its eval block says ``sample_prior = false``): ``(n, *input)``."""

def open(path: Union[str, "os.PathLike[str]"]) -> Model:
    """Opens a ``model.rra``, or the run folder holding one."""
