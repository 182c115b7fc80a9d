"""MMoE (Ma et al. KDD 2018): `num_experts` experts over the shared embedding, each a registry tower
(`expert_model`); per task a softmax gate over the experts, computed from the sample's features,
mixes them for that task's tower. Tasks that need different things weigh the experts differently."""
from keras import ops

from layers.expert_gate import ExpertGate
from layers.task_tower import TaskTower
from models.entire_space import TASKS, entire_space_outputs, sequence_channels
from models.tower import flat_view


def mmoe(cfg, features, make_tower, bodies):
    """(towers, wire): wire(embedded) -> the entire-space outputs."""
    channels = sequence_channels(features)
    experts = [make_tower(bodies[0], channels, f"expert_{i}", "hidden") for i in range(cfg.num_experts)]
    gates = {task: ExpertGate(cfg.num_experts, name=f"{task}_gate") for task in TASKS}
    task_towers = {task: TaskTower(cfg.task_tower_units, cfg.mlp_activation, cfg.mlp_dropout, cfg.wide,
                                   name=f"{task}_task")
                   for task in TASKS}

    def wire(embedded):
        stacked = ops.stack([expert(embedded) for expert in experts], axis=1)
        gate_input = flat_view(embedded, channels)
        return entire_space_outputs(*(task_towers[task](gates[task](gate_input, stacked), embedded.get("dense"))
                                       for task in TASKS))
    return experts, wire
