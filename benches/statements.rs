//! Benchmark of the statements endpoints. Placeholder: filled in by its issue.

fn main() {}
