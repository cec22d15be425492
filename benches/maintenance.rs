//! Benchmark of the maintenance endpoints. Placeholder: filled in by its issue.

fn main() {}
