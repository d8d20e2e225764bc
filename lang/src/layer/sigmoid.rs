//! `sigmoid`: the logistic function 1 / (1 + e^-x), element-wise.

pointwise!(Sigmoid, "sigmoid", "1 / (1 + e^-x)");
