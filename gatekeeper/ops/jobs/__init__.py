"""The governance jobs, one module each; each ``run(ctx)`` returns the outputs to write."""
