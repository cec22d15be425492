//! Benchmark of the activity endpoints. Placeholder: filled in by its issue.

fn main() {}
