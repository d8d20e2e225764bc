//! `tanh`: the hyperbolic tangent, element-wise.

pointwise!(Tanh, "tanh", "tanh(x)");
