"""Every setting of the pipeline, with the original project's best values as defaults.

Edit this file to change the defaults, or override any value for one run from the command line:
    python main_func.py learning_rate=0.004 model=DIN seeds=[16,17,18]
"""

# ---------------------------------------------------------------- locations
raw_dir = "ddata/raw"  # actions/items/users tables (CSV or Parquet), or one merged table
processed_dir = "ddata/processed"  # arrays and meta.json written by preprocessing
results_dir = "ddata/results"  # runs.csv and one folder per run
allow_pickle = False  # read a merged .pkl table; loading a pickle runs code, so opt in only for trusted files
config = ""  # preset file(s) applied before key=value overrides, e.g. config=configs/demo.py
study = ""  # name tagging a run's runs.csv row as part of a study (sh scr/sweep.sh sets it; sh scr/report.sh reads it)

# ---------------------------------------------------------------- demo data
demo_users = 15000  # users in the generated log; the default keeps sh scr/run_all.sh under 15 minutes
demo_items = 6000  # items in the generated catalogue
demo_categories = 120  # third-level categories
demo_scale = 1.0  # multiplies users and items; 1.0 gives about 1.5 million actions, 20 about 30 million
demo_start = "2020-02-01"  # first day of the generated log, as in the original data
demo_end = "2020-04-15"  # last day of the generated log
demo_seed = 2021  # the generator is deterministic for a given seed and size
like = ""  # a raw-data folder: make_demo_data generates its twin, a log of the same shape, instead of the demo

# ---------------------------------------------------------------- samples
num_windows = 6  # sliding windows, newest first, anchored at the last day of the data (purged ones count)
window_days = 5  # length of each interaction range and of each label range
window_stride_days = 5  # how far each older window steps back; below window_days, windows nearest dev/test are purged
use_oldest_window = False  # the original left its oldest window unused; True adds it to train
split_by = "user"  # newest window -> dev/test halved by "user" (disjoint users) or "random" (original)
max_len = 100  # behaviour-sequence length kept per sample (the most recent actions)
use_item2vec = True  # initialise the item embedding from gensim Word2Vec over training sequences
w2v_window = 5  # Word2Vec context window
w2v_epochs = 5  # Word2Vec passes over the sequences
w2v_min_count = 1  # items seen fewer times get a small random vector
w2v_sample = 1e-4  # Word2Vec downsampling of frequent items (gensim's sample); also makes it faster
embed_dim = 16  # embedding size of every categorical feature (and of item2vec)
embed_l2 = 0.0  # L2 penalty on the embedding rows a batch looks up for its targets and side ids
split_seed = 2021  # seeds the dev/test halving of the newest window, Word2Vec and unseen items' item2vec rows
w2v_max_tokens = 200000  # item2vec corpus budget (tokens); beyond it whole users are sampled (seeded), bounding its time
open_candidates = 0  # forecast pairs per user beyond those touched: co-viewed and popular items of their categories (0: off; docs/forecast.md)

# ---------------------------------------------------------------- models
model = "ESSM"  # DIEN, DIN, DNN, DeepFM, GRU_DNN, GRU_FM; multi-task ESSM (alias ESMM), SHARED_BOTTOM, MMOE, PLE, AITM, ESCM2; baselines RULE, GBDT, LR
ctr_model = "DIEN"  # the CTR tower of ESSM and ESCM2 (predicts interaction)
cvr_model = "GRU_DNN"  # the CVR tower of ESSM and ESCM2 (predicts purchase given interaction)
ctr_sees_action_type = False  # the original hid the action-type channel from the CTR tower
mlp_units = [568, 256, 128, 64]  # hidden sizes of every tower's MLP (the original's last version)
mlp_activation = "prelu"  # "prelu" or "dice"
mlp_dropout = 0.0  # dropout after each MLP layer
wide = True  # the dense and pair features also reach every tower's logit through a linear term
attention_units = [80, 40]  # DIN/DIEN attention MLP hidden sizes
attention_softmax = True  # DIN: softmax over the real steps, as the DIN authors' code does; the paper's unnormalised sum fed the MLP inputs of ~450x their usual variance (False: as the paper)
dien_gru_units = 32  # DIEN interest extractor GRU
dien_augru_units = 32  # DIEN interest evolution AUGRU
dien_aux_weight = 1.0  # weight of DIEN's auxiliary loss (next behaviour vs sampled negatives)
dien_aux_units = [32]  # hidden sizes of the MLP scoring DIEN's auxiliary pairs (DIEN's code: [100, 50], ~3x the cost)
gru_units = 64  # GRU of GRU_DNN and GRU_FM
expert_model = "DNN"  # SHARED_BOTTOM's bottom, MMOE's and PLE's experts, AITM's task towers: DIEN, DIN, DNN or GRU_DNN (its MLP's last layer is the representation; the papers' are MLPs)
num_experts = 4  # MMOE's experts
ple_task_experts = 1  # PLE's experts of each task, at every level
ple_shared_experts = 1  # PLE's shared experts, at every level
ple_levels = 2  # PLE's extraction levels: the first of expert_model towers, later ones of MLP experts
task_tower_units = [64]  # hidden sizes of each task's tower over the shared representation (SHARED_BOTTOM, MMOE, PLE, AITM)
escm2_variant = "dr"  # ESCM2's counterfactual regulariser: "ips" (inverse propensity) or "dr" (doubly robust, with an imputation tower)

# ---------------------------------------------------------------- training
learning_rate = 0.008  # Adam learning rate (the README's best)
lr_decay = 0.5  # learning rate multiplied by this after each pass (or each min_updates steps, if more)
clip_norm = 3.0  # gradients clipped to this global norm
sparse_update_above = 1_000_000  # an embedding table with more ids gets sparse gradients and lazy Adam updates (docs/scaling.md)
batch_size = "auto"  # training batch; auto: sized to the training split, 64 to 2048 (training/loop/schedule.py)
eval_batch_size = 8192  # evaluation batch
eval_every = "auto"  # evaluate on dev every this many training steps; auto: 4 times a pass
patience = 30  # stop after this many evaluations without a better dev Main AUC (averaged over a few when dev has few buyers)
min_updates = 300  # training steps before early stopping may end a run; the learning rate decays at most this often
max_epochs = 100  # upper bound on passes over the training split
label_smoothing = 0.1  # on the auxiliary (CTR) loss only
ctr_weight = 1.0  # weight of the CTR loss in the multi-task models
cvr_weight = 0.0  # weight of the CVR loss (on interacted samples only) in the multi-task models
seeds = [16]  # one run per seed; several give mean +- std
jit_compile = False  # compile train steps with XLA
deterministic = True  # same seed and data -> same metrics on CPU (TensorFlow op determinism)
distribute = "none"  # "none" one device, "mirrored" every local GPU (or 2 logical CPU devices), "multi_worker" the cluster in TF_CONFIG (docs/scaling.md)
resume = True  # a killed run continues from its last evaluation's checkpoint when the same command is run again
aitm_calibration_weight = 0.6  # AITM's behavioural expectation calibrator: weight of mean(max(p_buy - p_ctr, 0)) (the paper's alpha)
escm2_weight = 0.5  # weight of ESCM2's counterfactual regulariser (IPS or DR CVR risk)
propensity_floor = 0.05  # ESCM2: pCTR as propensity is held at least this, bounding the inverse weights at 1/floor
