"""The recurrence shared by the GRU and the AUGRU, fused for speed, with a hand-written backward pass.

Both cells, in the weight layout of `keras.layers.GRU` (gates z, r, h; `reset_after=True`):

    z = σ(x W_z + b_z + h U_z + c_z)      r = σ(x W_r + b_r + h U_r + c_r)
    n = tanh(x W_h + b_h + r ⊙ (h U_h + c_h))
    h' = h + s ⊙ (1 − z) ⊙ (n − h)

where s is a per-step gate scale: the padding mask (0 or 1) for a GRU, mask × attention score for
DIEN's AUGRU (the paper's attentional update gate u' = a·u with u = 1 − z). A step with s = 0 keeps
the state exactly, so front padding leaves the state at its initial zeros.

What makes it fast on a CPU, where a step's many small operations cost more than its arithmetic:
the input projections x W + b of all steps are three large matrix products before the loop (time
major, so each step reads contiguous rows); inside the loop each gate has its own H × H product, so
no step splits or concatenates tensors; the backward loop computes each step's gradients from the
gate values the forward loop kept, instead of differentiating the loop operation by operation; and
the weights' gradients are large matrix products after it. It compiles under XLA as well.
"""
import tensorflow as tf


def _make_scan(scale_gradient, return_sequences):
    """The time-major recurrence; with scale_gradient=False the scale gets no gradient (a mask),
    which saves a reduction per step; with return_sequences=False it returns the last state only,
    so no gradient of the whole sequence of states is built and read back."""

    @tf.custom_gradient
    def scan(x_z, x_r, x_h, scale, u_z, u_r, u_h, c_z, c_r, c_h):
        steps = tf.shape(x_z)[0]
        initial = tf.zeros([tf.shape(x_z)[1], tf.shape(u_z)[0]], x_z.dtype)

        def arrays(count):
            return tuple(tf.TensorArray(x_z.dtype, size=steps) for _ in range(count))

        def forward(t, state, states, zs, rs, ns, hidden_hs):
            z = tf.sigmoid(x_z[t] + tf.matmul(state, u_z) + c_z)
            r = tf.sigmoid(x_r[t] + tf.matmul(state, u_r) + c_r)
            hidden_h = tf.matmul(state, u_h) + c_h
            candidate = tf.tanh(x_h[t] + r * hidden_h)
            state = state + scale[t] * (1.0 - z) * (candidate - state)
            return (t + 1, state, states.write(t, state), zs.write(t, z), rs.write(t, r), ns.write(t, candidate),
                    hidden_hs.write(t, hidden_h))

        _, last, states, zs, rs, ns, hidden_hs = tf.while_loop(
            lambda t, *_: t < steps, forward, (0, initial) + arrays(5))
        states = states.stack()

        def grad(d_output):
            previous = tf.concat([initial[None], states[:-1]], axis=0)

            def backward(t, d_state, d_zs, d_rs, d_ns, d_hidden_hs, d_scales):
                if return_sequences:
                    d_state = d_state + d_output[t]
                z, r, candidate, hidden_h = zs.read(t), rs.read(t), ns.read(t), hidden_hs.read(t)
                keep = 1.0 - z
                update = scale[t] * keep
                d_update = d_state * (candidate - previous[t])
                d_pre_n = d_state * update * (1.0 - candidate * candidate)
                d_pre_z = -d_update * scale[t] * z * keep
                d_pre_r = d_pre_n * hidden_h * r * (1.0 - r)
                d_hidden_h = d_pre_n * r
                d_previous = (d_state * (1.0 - update) + tf.matmul(d_pre_z, u_z, transpose_b=True)
                              + tf.matmul(d_pre_r, u_r, transpose_b=True)
                              + tf.matmul(d_hidden_h, u_h, transpose_b=True))
                if scale_gradient:
                    d_scales = d_scales.write(t, tf.reduce_sum(d_update * keep, axis=-1, keepdims=True))
                return (t - 1, d_previous, d_zs.write(t, d_pre_z), d_rs.write(t, d_pre_r), d_ns.write(t, d_pre_n),
                        d_hidden_hs.write(t, d_hidden_h), d_scales)

            d_last = tf.zeros_like(initial) if return_sequences else d_output
            _, _, d_z, d_r, d_n, d_hidden_h, d_scale = tf.while_loop(
                lambda t, *_: t >= 0, backward, (steps - 1, d_last) + arrays(5))
            d_z, d_r, d_n, d_hidden_h = d_z.stack(), d_r.stack(), d_n.stack(), d_hidden_h.stack()
            units = tf.shape(u_z)[0]
            flat_previous = tf.reshape(previous, [-1, units])

            def kernel_gradient(d_gate):
                return tf.matmul(flat_previous, tf.reshape(d_gate, [-1, units]), transpose_a=True)

            def bias_gradient(d_gate):
                return tf.reduce_sum(d_gate, axis=[0, 1])

            d_scale = d_scale.stack() if scale_gradient else tf.zeros_like(scale)
            return (d_z, d_r, d_n, d_scale, kernel_gradient(d_z), kernel_gradient(d_r), kernel_gradient(d_hidden_h),
                    bias_gradient(d_z), bias_gradient(d_r), bias_gradient(d_hidden_h))

        return (states if return_sequences else last), grad

    return scan


_SCANS = {(gradient, sequences): _make_scan(gradient, sequences) for gradient in (True, False)
          for sequences in (True, False)}


def add_gru_weights(layer, input_dim, units):
    """Creates layer.kernel [D, 3H], layer.recurrent_kernel [H, 3H] and layer.bias [2, 3H] (gates z, r, h;
    input and recurrent biases, reset_after=True): keras.layers.GRU's layout and initialisers, the one
    layout of every recurrence here."""
    layer.kernel = layer.add_weight(name="kernel", shape=(input_dim, 3 * units), initializer="glorot_uniform")
    layer.recurrent_kernel = layer.add_weight(name="recurrent_kernel", shape=(units, 3 * units),
                                              initializer="orthogonal")
    layer.bias = layer.add_weight(name="bias", shape=(2, 3 * units), initializer="zeros")


def gru_scan(inputs, kernel, bias, recurrent_kernel, scale, scale_gradient=True, return_sequences=True):
    """States of the scaled-update GRU, from a zero state: [B, T, H] at every step, or the last [B, H].

    inputs: [B, T, D]; kernel: [D, 3H] and recurrent_kernel: [H, 3H] (gate order z, r, h); bias:
    [2, 3H] (input bias, recurrent bias); scale: [B, T] update-gate scale (the mask for a GRU,
    mask × attention for an AUGRU); scale_gradient: whether the scale needs a gradient.
    """
    time_major = tf.transpose(inputs, [1, 0, 2])
    rows = tf.reshape(time_major, [-1, tf.shape(inputs)[-1]])
    steps_and_batch = tf.shape(time_major)[:2]
    input_kernels = tf.split(tf.convert_to_tensor(kernel), 3, axis=-1)
    input_biases = tf.split(tf.convert_to_tensor(bias)[0], 3)
    projected = [tf.reshape(tf.matmul(rows, k) + b, tf.concat([steps_and_batch, [-1]], 0))
                 for k, b in zip(input_kernels, input_biases)]
    scale = tf.transpose(tf.cast(scale, inputs.dtype))[..., None]
    output = _SCANS[bool(scale_gradient), bool(return_sequences)](
        *projected, scale, *tf.split(tf.convert_to_tensor(recurrent_kernel), 3, axis=-1),
        *tf.split(tf.convert_to_tensor(bias)[1], 3))
    return tf.transpose(output, [1, 0, 2]) if return_sequences else output
