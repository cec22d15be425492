//! The CPUs of the host as /proc/cpuinfo describes them (parsed by procfs), for the
//! monitoring record's `hostinfo.cpus`: processor number, model name, clock (MHz),
//! cache size and core id, each as the text the kernel writes. Pure over the file
//! text.
//!
//! /proc/cpuinfo is one block per CPU (blank-line separated `key : value` lines)
//! plus, on ARM, blocks that describe the whole machine. A block is a CPU when it
//! has a `processor` line. What an architecture does not write is an empty string
//! (aarch64 writes no model name, clock, cache size or core id): the keys stay,
//! their values are text, as the 7.x record has them.

use procfs::{CpuInfo, FromBufRead};
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

/// Old ARMv7 kernels name the model once for the machine, above the first CPU
/// (`Processor : ARMv7 Processor rev 10 (v7l)`), where procfs, which keeps the
/// lines of CPU blocks only, does not look.
fn machine_model(text: &str) -> &str {
    text.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "Processor").then(|| value.trim())
        })
        .unwrap_or_default()
}

/// The CPUs of /proc/cpuinfo, in file order (procfs's blocks that have a
/// `processor` line). On old ARMv7 every CPU gets the machine's model. A layout
/// without `processor` blocks (s390x writes `processor 0: version = ...`)
/// describes no CPU: an empty list, not an error that would cost the record the
/// rest of the host's description.
pub fn parse(text: &str) -> Vec<CpuDescription> {
    let Ok(info) = CpuInfo::from_buf_read(text.as_bytes()) else {
        return Vec::new();
    };
    let machine_model = machine_model(text);
    (0..info.num_cores())
        .filter_map(|i| {
            let field = |key: &str| info.get_field(i, key);
            let text = |key: &str| field(key).unwrap_or_default().to_string();
            Some(CpuDescription {
                processor: field("processor")?.to_string(),
                model_name: MODEL_KEYS
                    .iter()
                    .find_map(|k| field(k))
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
    fn a_single_cpu_has_its_fields() {
        // procfs moves the fields all CPUs share out of their blocks: with one CPU,
        // every field; they must still be that CPU's.
        let one = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\
                   cpu MHz\t\t: 2200.000\ncache size\t: 56320 KB\ncore id\t\t: 0\n";
        assert_eq!(
            parse(one),
            [CpuDescription {
                processor: "0".into(),
                model_name: "Intel(R) Xeon(R) CPU @ 2.20GHz".into(),
                cpu_mhz: "2200.000".into(),
                cache_size: "56320 KB".into(),
                core_id: "0".into(),
            }]
        );
    }

    #[test]
    fn this_host_describes_its_cpus() {
        let cpus = read().unwrap();
        assert!(!cpus.is_empty());
        assert!(cpus.iter().all(|c| !c.processor.is_empty()));
    }
}
