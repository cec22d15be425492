//! The CPUs of the host as /proc/cpuinfo describes them, for the monitoring
//! record's `hostinfo.cpus`: processor number, model name, clock (MHz), cache size
//! and core id, each as the text the kernel writes. Pure over the file text.
//!
//! /proc/cpuinfo is one block per CPU (blank-line separated `key : value` lines)
//! plus, on ARM, blocks that describe the whole machine. A block is a CPU when it
//! has a `processor` line. What an architecture does not write is an empty string
//! (aarch64 writes no model name, clock, cache size or core id): the keys stay,
//! their values are text, as the 7.x record has them.

use serde::Serialize;

use super::HostError;

/// One CPU, in the record's words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpuDescription {
    pub processor: String,
    pub model_name: String,
    pub cpu_mhz: String,
    pub cache_size: String,
    pub core_id: String,
}

/// Keys that name the model inside a CPU's block, by architecture: x86 and newer
/// ARMv7 (`model name`), MIPS (`cpu model`), POWER (`cpu`).
const MODEL_KEYS: [&str; 3] = ["model name", "cpu model", "cpu"];

fn blocks(text: &str) -> Vec<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(':') {
            current.push((key.trim(), value.trim()));
        } else if line.trim().is_empty() && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        // Any other line has no colon (e.g. "power management" on some kernels):
        // not a field.
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn field<'a>(block: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    block.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The CPUs of /proc/cpuinfo, in file order. Old ARMv7 kernels name the model once
/// for the machine (`Processor : ARMv7 Processor rev 10 (v7l)`): every CPU gets it.
/// A layout without `processor` blocks (s390x writes `processor 0: version = ...`)
/// describes no CPU: an empty list, not an error that would cost the record the
/// rest of the host's description.
pub fn parse(text: &str) -> Vec<CpuDescription> {
    let blocks = blocks(text);
    let machine_model = blocks
        .iter()
        .find_map(|b| field(b, "Processor"))
        .unwrap_or_default();
    blocks
        .iter()
        .filter_map(|b| {
            let processor = field(b, "processor")?;
            let text = |key: &str| field(b, key).unwrap_or_default().to_string();
            Some(CpuDescription {
                processor: processor.to_string(),
                model_name: MODEL_KEYS
                    .iter()
                    .find_map(|k| field(b, k))
                    .unwrap_or(machine_model)
                    .to_string(),
                cpu_mhz: text("cpu MHz"),
                cache_size: text("cache size"),
                core_id: text("core id"),
            })
        })
        .collect()
}

pub fn read() -> Result<Vec<CpuDescription>, HostError> {
    Ok(parse(&super::read("/proc/cpuinfo")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_cpus_as_the_record_has_them() {
        let cpus = parse(include_str!("fixtures/cpuinfo-epyc.txt"));
        assert_eq!(cpus.len(), 2);
        assert_eq!(
            cpus[1],
            CpuDescription {
                processor: "1".into(),
                model_name: "AMD EPYC".into(),
                cpu_mhz: "2445.430".into(),
                cache_size: "512 KB".into(),
                core_id: "1".into(),
            }
        );
        assert_eq!(
            serde_json::to_value(&cpus[0]).unwrap(),
            serde_json::json!({"processor": "0", "model_name": "AMD EPYC",
                "cpu_mhz": "2445.430", "cache_size": "512 KB", "core_id": "0"})
        );
    }

    #[test]
    fn aarch64_without_model_name_keeps_the_keys_empty() {
        let cpus = parse(include_str!("fixtures/cpuinfo-aarch64.txt"));
        assert_eq!(cpus.len(), 2, "the machine block is not a CPU");
        assert_eq!(
            cpus[0],
            CpuDescription {
                processor: "0".into(),
                ..Default::default()
            }
        );
    }

    #[test]
    fn old_armv7_names_the_model_once_for_every_cpu() {
        let cpus = parse(include_str!("fixtures/cpuinfo-armv7-old.txt"));
        let models: Vec<&str> = cpus.iter().map(|c| c.model_name.as_str()).collect();
        assert_eq!(
            models,
            [
                "ARMv7 Processor rev 10 (v7l)",
                "ARMv7 Processor rev 10 (v7l)"
            ]
        );
        assert_eq!(cpus[1].processor, "1");
    }

    #[test]
    fn power_and_unknown_layouts() {
        let power = "processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\n\
                     clock\t\t: 2200.000000MHz\n\nprocessor\t: 1\ncpu\t\t: POWER9\n";
        let cpus = parse(power);
        assert_eq!(
            cpus[0].model_name,
            "POWER9 (architected), altivec supported"
        );
        assert_eq!(cpus[1].model_name, "POWER9");
        let s390 = "vendor_id       : IBM/S390\n# processors    : 2\n\
                    processor 0: version = FF, identification = 0133E8, machine = 2964\n";
        assert_eq!(parse(s390), Vec::new());
        assert_eq!(parse(""), Vec::new());
    }

    #[test]
    fn this_host_describes_its_cpus() {
        let cpus = read().unwrap();
        assert!(!cpus.is_empty());
        assert!(cpus.iter().all(|c| !c.processor.is_empty()));
    }
}
