//! `relu`: max(0, x), element-wise.

pointwise!(Relu, "relu", "max(x, 0)");
