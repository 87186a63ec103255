"""Questions asked of the model: levers, the TC-PMF timeline, self-host crossover, retention fitting."""
