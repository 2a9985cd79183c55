"""The training core: config resolution, the objective bound into a train step, the multi-seed runner, the train loop with its checkpoints and scoring."""
