pub fn run(_dir: &std::path::Path, _port: u16) -> Result<(), String> {
    Err("todo".into())
}
