"""`make faults`: the fault matrix on the embedded stack, every result compared record by record
with a fault-free run of the same touchpoints (issue 19). `runner` runs it; `workloads` builds
what is published, `injections` does the harm, `outcome` reads and compares the state."""
