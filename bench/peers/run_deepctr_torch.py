"""Trains deepctr-torch's DIN or DIEN (PyTorch, CPU) on the benchmark's arrays; reports samples per second.

Run with the `deepctr-torch` environment's python (bench/.venvs/deepctr-torch). DIEN runs as the
library's own example does: AUGRU with negative sampling (its auxiliary net, weight 1).
"""
import peer_inputs
import timing


def main():
    args = peer_inputs.parse_args(["DIN", "DIEN"])

    def body():
        import deepctr_torch
        import torch
        from deepctr_torch.inputs import DenseFeat, SparseFeat, VarLenSparseFeat
        from deepctr_torch.models import DIEN, DIN

        model, inputs, arrays, sizes = peer_inputs.build_peer_model(
            args, (SparseFeat, VarLenSparseFeat, DenseFeat), DIN, DIEN)
        model.compile("adam", "binary_crossentropy")
        batch = sizes["batch_size"]
        clock = timing.StepClock(batch, args.warmup_steps, args.steps, args.repeats, args.repeat_budget_s)
        rows = clock.max_steps * batch
        x = {name: inputs[name][:rows] for name in model.feature_index}
        # deepctr-torch's fit takes no per-step callback: the clock ticks after each optimiser step.
        optimiser_step = model.optim.step

        def step_and_tick(*step_args, **step_kwargs):
            optimiser_step(*step_args, **step_kwargs)
            if clock.step_done():
                raise timing.Finished

        model.optim.step = step_and_tick
        try:
            model.fit(x, arrays["label_buy"][:rows], batch_size=batch, epochs=1, verbose=0, shuffle=False)
        except timing.Finished:
            pass
        result = clock.result()
        result["library"] = f"deepctr-torch {deepctr_torch.__version__}"
        result["framework"] = f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"
        return result

    timing.run_guarded(body)


if __name__ == "__main__":
    main()
