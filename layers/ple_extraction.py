"""PLE's extraction level (Tang et al. RecSys 2020): task-specific and shared experts, gated per task.

At each level, task k's gate mixes task k's own experts with the shared experts (customized gate
control, CGC); when another level follows, a shared gate mixes every expert of the level into the
shared input of the next. Each gate is an `ExpertGate` over its own input.

    ExtractionGates: the gating alone, over expert outputs computed elsewhere (the first level,
                     whose experts are registry towers over the embedded features)
    ExtractionLayer: a whole later level, its experts MLPs over the previous level's outputs
"""
import keras
from keras import ops

from layers.expert_gate import ExpertGate
from layers.mlp import MLP


@keras.saving.register_keras_serializable(package="purchase")
class ExtractionGates(keras.layers.Layer):
    """call(gate_inputs, task_experts, shared_experts) -> [task 1 mixture, ..., (shared mixture)], each [B, H].

    gate_inputs: one [B, n] per task, then one for the shared gate when shared_output;
    task_experts: one [B, task_experts, H] per task; shared_experts: [B, shared_experts, H].
    """

    def __init__(self, num_tasks, task_experts, shared_experts, shared_output, **kwargs):
        super().__init__(**kwargs)
        self.num_tasks = num_tasks
        self.task_experts = task_experts
        self.shared_experts = shared_experts
        self.shared_output = shared_output
        self.task_gates = [ExpertGate(task_experts + shared_experts, name=f"task_{k}_gate") for k in range(num_tasks)]
        self.shared_gate = (ExpertGate(num_tasks * task_experts + shared_experts, name="shared_gate")
                            if shared_output else None)

    def call(self, gate_inputs, task_experts, shared_experts):
        outputs = [gate(gate_inputs[k], ops.concatenate([task_experts[k], shared_experts], axis=1))
                   for k, gate in enumerate(self.task_gates)]
        if self.shared_gate is not None:
            outputs.append(self.shared_gate(gate_inputs[-1], ops.concatenate([*task_experts, shared_experts], axis=1)))
        return outputs

    def get_config(self):
        return {**super().get_config(), "num_tasks": self.num_tasks, "task_experts": self.task_experts,
                "shared_experts": self.shared_experts, "shared_output": self.shared_output}


@keras.saving.register_keras_serializable(package="purchase")
class ExtractionLayer(keras.layers.Layer):
    """call([task 1 input, ..., shared input]) -> the gates' outputs, as `ExtractionGates`; every gate
    reads the input its experts read (task k's gate task k's input, the shared gate the shared one)."""

    def __init__(self, num_tasks, task_experts, shared_experts, units, activation="prelu", dropout=0.0,
                 shared_output=False, **kwargs):
        super().__init__(**kwargs)
        self.num_tasks = num_tasks
        self.task_experts = task_experts
        self.shared_experts = shared_experts
        self.units = list(units)
        self.activation = activation
        self.dropout = dropout
        self.shared_output = shared_output
        self.task_expert_layers = [[MLP(self.units, activation, dropout, name=f"task_{k}_expert_{i}")
                                    for i in range(task_experts)] for k in range(num_tasks)]
        self.shared_expert_layers = [MLP(self.units, activation, dropout, name=f"shared_expert_{i}")
                                     for i in range(shared_experts)]
        self.gates = ExtractionGates(num_tasks, task_experts, shared_experts, shared_output, name="gates")

    def call(self, inputs, training=None):
        task = [ops.stack([expert(inputs[k], training=training) for expert in experts], axis=1)
                for k, experts in enumerate(self.task_expert_layers)]
        shared = ops.stack([expert(inputs[-1], training=training) for expert in self.shared_expert_layers], axis=1)
        gate_inputs = list(inputs) if self.shared_output else list(inputs[:self.num_tasks])
        return self.gates(gate_inputs, task, shared)

    def get_config(self):
        return {**super().get_config(), "num_tasks": self.num_tasks, "task_experts": self.task_experts,
                "shared_experts": self.shared_experts, "units": self.units, "activation": self.activation,
                "dropout": self.dropout, "shared_output": self.shared_output}
