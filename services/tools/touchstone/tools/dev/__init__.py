"""Development tools: the embedded local stack, the simulator, benchmarks, the fault suite, code
generation, development keys."""
