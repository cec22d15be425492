//! Benchmark of the dashboard endpoints. Placeholder: filled in by its issue.

fn main() {}
