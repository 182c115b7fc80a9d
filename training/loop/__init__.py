"""The training loop: schedule, task (model, losses, optimiser), input pipeline, dev evaluation,
collapse checks, resume, distribution, and the baselines fitted in its place."""
