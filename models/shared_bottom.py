"""Shared-bottom multi-task learning (Caruana 1997): one bottom network shared by both tasks, a small
tower per task over its representation. The bottom is a registry tower (`expert_model`)."""
from layers.task_tower import TaskTower
from models.entire_space import TASKS, entire_space_outputs, sequence_channels


def shared_bottom(cfg, features, make_tower, bodies):
    """(towers, wire): wire(embedded) -> the entire-space outputs."""
    bottom = make_tower(bodies[0], sequence_channels(features), "bottom", "hidden")
    task_towers = {task: TaskTower(cfg.task_tower_units, cfg.mlp_activation, cfg.mlp_dropout, cfg.wide,
                                   name=f"{task}_task")
                   for task in TASKS}

    def wire(embedded):
        shared = bottom(embedded)
        return entire_space_outputs(*(task_towers[task](shared, embedded.get("dense")) for task in TASKS))
    return [bottom], wire
