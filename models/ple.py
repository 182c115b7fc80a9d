"""PLE (Tang et al. RecSys 2020): progressive layered extraction. Each task has experts of its own
beside shared ones; task k's gate mixes only its own and the shared experts, so a task's signal is
not diluted by the other's (CGC). The first level's experts are registry towers (`expert_model`)
over the shared embedding, gated from the sample's features; each further level (`ple_levels`) has
MLP experts over the previous level's task and shared outputs."""
from keras import ops

from layers.ple_extraction import ExtractionGates, ExtractionLayer
from layers.task_tower import TaskTower
from models.entire_space import TASKS, entire_space_outputs, sequence_channels
from models.tower import flat_view


def ple(cfg, features, make_tower, bodies):
    """(towers, wire): wire(embedded) -> the entire-space outputs."""
    channels = sequence_channels(features)
    levels = cfg.ple_levels
    task_experts = {task: [make_tower(bodies[0], channels, f"{task}_expert_{i}", "hidden")
                           for i in range(cfg.ple_task_experts)] for task in TASKS}
    shared_experts = [make_tower(bodies[0], channels, f"shared_expert_{i}", "hidden")
                      for i in range(cfg.ple_shared_experts)]
    first = ExtractionGates(len(TASKS), cfg.ple_task_experts, cfg.ple_shared_experts, shared_output=levels > 1,
                            name="level_1")
    later = [ExtractionLayer(len(TASKS), cfg.ple_task_experts, cfg.ple_shared_experts, [cfg.mlp_units[-1]],
                             cfg.mlp_activation, cfg.mlp_dropout, shared_output=level < levels, name=f"level_{level}")
             for level in range(2, levels + 1)]
    task_towers = {task: TaskTower(cfg.task_tower_units, cfg.mlp_activation, cfg.mlp_dropout, cfg.wide,
                                   name=f"{task}_task")
                   for task in TASKS}

    def wire(embedded):
        gate_input = flat_view(embedded, channels)
        outputs = first([gate_input] * (len(TASKS) + (levels > 1)),
                        [ops.stack([e(embedded) for e in task_experts[task]], axis=1) for task in TASKS],
                        ops.stack([e(embedded) for e in shared_experts], axis=1))
        for level in later:
            outputs = level(outputs)
        return entire_space_outputs(*(task_towers[task](outputs[k], embedded.get("dense"))
                                       for k, task in enumerate(TASKS)))
    return [e for task in TASKS for e in task_experts[task]] + shared_experts, wire
