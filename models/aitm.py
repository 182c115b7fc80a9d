"""AITM (Xi et al. KDD 2021): the tasks of a customer's path (interaction, then purchase) each with a
tower over the shared embedding; the adaptive information transfer unit carries what the interaction
task learnt into the purchase task, attention deciding per sample how much. Both predict over every
sample; the behavioural expectation calibrator, a loss of the task (training/loop/task.py), penalises
p(buy) above p(interaction). Both task towers are `expert_model` registry towers (the paper's are
MLPs, as DNN's is), the interaction task's blind to the action type as ESSM's CTR tower is."""
from layers.attention_transfer import AttentionTransfer
from layers.task_tower import TaskTower
from models.entire_space import TASKS, entire_space_outputs
from models.essm import essm_towers


def aitm(cfg, features, make_tower, bodies):
    """(towers, wire): wire(embedded) -> the entire-space outputs."""
    towers = essm_towers(features, *bodies, cfg.ctr_sees_action_type,
                         lambda name, sequences, role: make_tower(name, sequences, role, "hidden"))
    transfer = AttentionTransfer(name="transfer")
    task_towers = {task: TaskTower(cfg.task_tower_units, cfg.mlp_activation, cfg.mlp_dropout, cfg.wide,
                                   name=f"{task}_task")
                   for task in TASKS}

    def wire(embedded):
        ctr_state = towers["ctr"](embedded)
        buy_state = transfer(ctr_state, towers["cvr"](embedded))
        return entire_space_outputs(task_towers["ctr"](ctr_state, embedded.get("dense")),
                                    task_towers["buy"](buy_state, embedded.get("dense")))
    return list(towers.values()), wire
