"""The recurrence shared by the GRU and the AUGRU, fused for speed, with a hand-written backward pass.

Both cells, in the weight layout of `keras.layers.GRU` (gates z, r, h; `reset_after=True`):

    z = σ(x W_z + h U_z + b_z)      r = σ(x W_r + h U_r + b_r)
    c = tanh(x W_h + r ⊙ (h U_h + b_h))
    h' = h + s ⊙ (1 − z) ⊙ (c − h)

where s is a per-step gate scale: the padding mask (0 or 1) for a GRU, mask × attention score for
DIEN's AUGRU (the paper's attentional update gate u' = a·u with u = 1 − z). A step with s = 0 keeps
the state exactly, so front padding leaves the state at its initial zeros.

The input projections x W + b of all steps are one matrix product done by the caller; only h U runs
inside the loop. The backward loop computes each step's gradients from values the forward loop kept,
and the recurrent weights' gradient is one matrix product after it; differentiating the loop
automatically instead costs many more small operations per step, which dominate on a CPU.
"""
import tensorflow as tf


def _forward_step(projected, scale, state, recurrent_kernel, recurrent_bias):
    recurrent = tf.matmul(state, recurrent_kernel) + recurrent_bias
    x_z, x_r, x_h = tf.split(projected, 3, axis=-1)
    h_z, h_r, h_h = tf.split(recurrent, 3, axis=-1)
    z = tf.sigmoid(x_z + h_z)
    r = tf.sigmoid(x_r + h_r)
    candidate = tf.tanh(x_h + r * h_h)
    new_state = state + scale * (1.0 - z) * (candidate - state)
    return new_state, tf.concat([z, r, candidate, h_h], axis=-1)


def _backward_step(d_state, scale, previous, kept, recurrent_kernel):
    z, r, candidate, h_h = tf.split(kept, 4, axis=-1)
    keep = 1.0 - z
    update = scale * keep
    d_update = d_state * (candidate - previous)
    d_scale = tf.reduce_sum(d_update * keep, axis=-1, keepdims=True)
    d_pre_h = d_state * update * (1.0 - candidate * candidate)
    d_pre_z = -d_update * scale * z * keep
    d_pre_r = d_pre_h * h_h * r * (1.0 - r)
    d_projected = tf.concat([d_pre_z, d_pre_r, d_pre_h], axis=-1)
    d_recurrent = tf.concat([d_pre_z, d_pre_r, d_pre_h * r], axis=-1)
    d_previous = d_state * (1.0 - update) + tf.matmul(d_recurrent, recurrent_kernel, transpose_b=True)
    return d_previous, d_projected, d_recurrent, d_scale


@tf.custom_gradient
def _scan_time_major(projected, scale, recurrent_kernel, recurrent_bias):
    steps = tf.shape(projected)[0]
    initial = tf.zeros([tf.shape(projected)[1], tf.shape(recurrent_kernel)[0]], projected.dtype)

    def forward(t, state, states, kept):
        state, kept_t = _forward_step(projected[t], scale[t], state, recurrent_kernel, recurrent_bias)
        return t + 1, state, states.write(t, state), kept.write(t, kept_t)

    _, _, states, kept = tf.while_loop(
        lambda t, *_: t < steps, forward,
        (0, initial, tf.TensorArray(projected.dtype, size=steps), tf.TensorArray(projected.dtype, size=steps)))
    states = states.stack()
    kept = kept.stack()

    def grad(d_states):
        previous = tf.concat([initial[None], states[:-1]], axis=0)

        def backward(t, d_state, d_projected, d_recurrent, d_scale):
            d_previous, d_projected_t, d_recurrent_t, d_scale_t = _backward_step(
                d_state + d_states[t], scale[t], previous[t], kept[t], recurrent_kernel)
            return (t - 1, d_previous, d_projected.write(t, d_projected_t),
                    d_recurrent.write(t, d_recurrent_t), d_scale.write(t, d_scale_t))

        _, _, d_projected, d_recurrent, d_scale = tf.while_loop(
            lambda t, *_: t >= 0, backward,
            (steps - 1, tf.zeros_like(initial), tf.TensorArray(projected.dtype, size=steps),
             tf.TensorArray(projected.dtype, size=steps), tf.TensorArray(projected.dtype, size=steps)))
        d_recurrent = d_recurrent.stack()
        width = tf.shape(recurrent_kernel)
        d_kernel = tf.matmul(tf.reshape(previous, [-1, width[0]]), tf.reshape(d_recurrent, [-1, width[1]]),
                             transpose_a=True)
        return d_projected.stack(), d_scale.stack(), d_kernel, tf.reduce_sum(d_recurrent, axis=[0, 1])

    return states, grad


def gru_scan(projected, scale, recurrent_kernel, recurrent_bias):
    """States of the scaled-update GRU at every step.

    projected: [B, T, 3H] input projections x W + b (gate order z, r, h); scale: [B, T] update-gate
    scale (mask for a GRU, mask × attention for an AUGRU); recurrent_kernel: [H, 3H];
    recurrent_bias: [3H]. Returns [B, T, H], starting from a zero state.
    """
    states = _scan_time_major(tf.transpose(projected, [1, 0, 2]),
                              tf.transpose(tf.cast(scale, projected.dtype))[..., None],
                              tf.convert_to_tensor(recurrent_kernel), tf.convert_to_tensor(recurrent_bias))
    return tf.transpose(states, [1, 0, 2])
