"""The verify loop (phases 7 to 10): deploy the generated app, validate it, check its
health, and repair what fails.

- `findings`: what a check found, located in the code and mapped to the spec;
- `traceindex`: the app's `specloom-trace.json`, read both ways;
- `sandbox`: generated code runs only here: subprocesses with time and memory limits
  and an environment stripped of secrets;
- `settings` and `state`: what a run's verify phases are told and share.
"""
