"""Compiles a function of Keras layers for the current backend, the way keras-hub compiles
`CausalLM.generate_step`: `tf.function` on TensorFlow, `jax.jit` over explicit variable values on
JAX (Keras variables are read through a `StatelessScope`), plain `torch.no_grad` on PyTorch."""

import keras


def unique_variables(layers):
    seen, variables = set(), []
    for layer in layers:
        for variable in getattr(layer, "variables", ()):
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def compile_function(function, layers, jit_compile=True):
    """Returns `compiled(*tensors)`; shapes and dtypes of the arguments key the traces.

    Args:
        function: a function of tensors only (Python values would retrace per value).
        layers: the layers (or any objects with `variables`) whose variables `function` reads
            (JAX passes their values in).
        jit_compile: TensorFlow only: XLA (True) or a plain graph (False). JAX always uses XLA.
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # autograph=False: the loops are explicit `ops.while_loop`s and every `if` is on Python values;
        # autograph's source rewriting would otherwise be about 80 % of each trace (1.5 s of shapes-demo's decode).
        return tf.function(function, jit_compile=jit_compile, reduce_retracing=False, autograph=False)
    if backend == "jax":
        import jax

        variables = unique_variables(layers)

        def stateless(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return function(*args)

        jitted = jax.jit(stateless)

        def call(*args):
            return jitted([variable.value for variable in variables], *args)

        return call
    if backend == "torch":
        import torch

        def call(*args):
            with torch.no_grad():
                return function(*args)

        return call
    return function
