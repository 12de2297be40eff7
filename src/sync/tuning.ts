// The runner's batch sizes and intervals: defaults, each overridable through RunOptions (the CLI
// reads the MDSYNC_* knobs; tests make tiny passes and checkpoint at every chance).

/** Messages one deliver request carries at most (a batch of one folder's transfers). */
export const BATCH_MESSAGES = 128;

/** Message bytes gathered before a deliver request is sent. */
export const BATCH_BYTES = 8 * 1024 * 1024;

/** Least time between two checkpoints (a state saved mid-run), unless RunOptions.checkpointMs says. */
export const CHECKPOINT_MS = 5_000;

/**
 * Messages a pass gathers before the next one starts (the last takes what is left), unless
 * RunOptions.passMessages says.
 */
export const PASS_MESSAGES = 10_000;

/**
 * Messages from which a first copy goes in passes, unless RunOptions.passesFrom says. Below it one
 * pass is cheaper (passes drain the pipeline between them); above it, memory that grows with the
 * Maildir is what matters (docs/performance.md).
 */
export const PASSES_FROM = 200_000;

/** Requests in flight at once per run, unless RunOptions.jobs says. */
export const JOBS = 4;
