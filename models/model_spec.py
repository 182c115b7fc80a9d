"""The model the settings name, resolved once when they load (configurator.load sets cfg.model_spec):
its registry name, kind, towers and title, which every stage reads instead of the model settings.
An unknown model or tower is refused there, before any data is read.

Names only, so that loading settings imports no Keras: models/registry.py builds the networks of
these names (a test checks both agree), training/loop/baselines.py fits the baselines.
"""
import dataclasses

from errors import PipelineError

TOWERS = ("DIEN", "DIN", "DNN", "DeepFM", "GRU_DNN", "GRU_FM")
# towers whose MLP representation another network can build on (an FM tower's logit is not its MLP's alone)
REPRESENTATION_TOWERS = ("DIEN", "DIN", "DNN", "GRU_DNN")
MULTI_TASK = ("ESSM", "SHARED_BOTTOM", "MMOE", "PLE", "AITM", "ESCM2")
# built of `expert_model` towers; ESSM and ESCM2 of ctr_model and cvr_model
EXPERT_MODELS = ("SHARED_BOTTOM", "MMOE", "PLE", "AITM")
BASELINES = ("RULE", "GBDT", "LR")  # not neural networks: fitted and scored by training.loop.baselines
MODEL_NAMES = (*TOWERS, *MULTI_TASK, *BASELINES)
ALIASES = {"ESMM": "ESSM"}  # the paper's spelling


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """towers: the registry towers of a multi-task model as (ctr, cvr) (an expert model's experts
    serve both), (name,) of a tower, () of a baseline. title: how runs name the model,
    ESSM(ctr=DIEN, cvr=GRU_DNN), ESCM2-DR(ctr=..., cvr=...), MMOE(experts=DNN), or its name."""
    name: str  # the registry name, aliases resolved
    kind: str  # "tower", "multi-task" or "baseline"
    towers: tuple
    title: str

    @property
    def multi_task(self):
        return self.kind == "multi-task"

    @property
    def baseline(self):
        return self.kind == "baseline"

    @property
    def ctr_cvr(self):
        """runs.csv's ctr_model and cvr_model: a multi-task model's towers, empty for the others."""
        return self.towers if self.multi_task else ("", "")


def canonical_name(name, setting="model", valid=MODEL_NAMES):
    """The registry name for `name` (aliases resolved) among `valid`; a PipelineError naming the valid
    ones otherwise."""
    name = ALIASES.get(name, name)
    if name not in valid:
        aliases = [f"alias {alias}" for alias, target in ALIASES.items() if target in valid]
        listed = ", ".join(valid) + (f" ({', '.join(aliases)})" if aliases else "")
        raise PipelineError(f"setting {setting}={name!r}: unknown model; valid: {listed}")
    return name


def resolve(cfg):
    """The ModelSpec of cfg's model settings (model, and ctr_model, cvr_model, expert_model or
    escm2_variant where the model uses them)."""
    name = canonical_name(cfg.model)
    if name in EXPERT_MODELS:
        expert = canonical_name(cfg.expert_model, "expert_model", REPRESENTATION_TOWERS)
        return ModelSpec(name, "multi-task", (expert, expert), f"{name}(experts={expert})")
    if name in MULTI_TASK:
        ctr = canonical_name(cfg.ctr_model, "ctr_model", TOWERS)
        cvr = canonical_name(cfg.cvr_model, "cvr_model", TOWERS)
        variant = f"-{cfg.escm2_variant.upper()}" if name == "ESCM2" else ""
        return ModelSpec(name, "multi-task", (ctr, cvr), f"{name}{variant}(ctr={ctr}, cvr={cvr})")
    if name in BASELINES:
        return ModelSpec(name, "baseline", (), name)
    return ModelSpec(name, "tower", (name,), name)
