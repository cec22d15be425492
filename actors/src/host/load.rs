//! Load average of the host from /proc/loadavg. Pure over the file text.

use procfs::{FromRead, LoadAverage};

use super::HostError;

/// The 1, 5 and 15 minutes load averages, rounded to two decimals as the kernel
/// writes them (procfs parses them as f32; rounding keeps `0.28`, not
/// `0.2800000011920929`, in JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadAvg {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
}

pub fn parse_loadavg(text: &str) -> Result<LoadAvg, HostError> {
    let l = LoadAverage::from_read(text.as_bytes())
        .map_err(|e| HostError::parse("/proc/loadavg", e))?;
    let r = |v: f32| (f64::from(v) * 100.0).round() / 100.0;
    Ok(LoadAvg {
        one: r(l.one),
        five: r(l.five),
        fifteen: r(l.fifteen),
    })
}

pub fn read() -> Result<LoadAvg, HostError> {
    parse_loadavg(&super::read("/proc/loadavg")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_averages() {
        let l = parse_loadavg(include_str!("fixtures/loadavg.txt")).unwrap();
        assert_eq!(
            l,
            LoadAvg {
                one: 0.47,
                five: 1.44,
                fifteen: 1.84
            }
        );
        assert_eq!(serde_json::json!(l.one).to_string(), "0.47");
        assert!(parse_loadavg("").is_err());
    }

    #[test]
    fn this_host_has_a_load() {
        assert!(read().unwrap().one >= 0.0);
    }
}
