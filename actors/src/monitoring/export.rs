//! What a probe column becomes on `GET /metrics`: its family name, Prometheus
//! type, help text and unit conversion. Declared on the probe's registry line
//! (`Probe::exports`, with `Probe::labels`); `prometheus_text` renders them. Data
//! only: nothing here reads a row.

/// A family's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (until a restart or a statistics reset); named `..._total`.
    Counter,
    Gauge,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// How a probe value becomes the exported value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Convert {
    /// The number as read (text holding a number is parsed: loadavg).
    AsRead,
    /// Divided by this: milliseconds to seconds (1000), percent to ratio (100).
    Divide(f64),
    /// A point in time (PostgreSQL's text form or an epoch number) to seconds
    /// since the epoch.
    Timestamp,
}

/// One exported probe column.
#[derive(Debug, Clone, Copy)]
pub struct Export {
    pub column: &'static str,
    pub family: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub convert: Convert,
    /// Labels with a fixed value, when several columns share a family (the lock
    /// mode of the `locks` columns, the CPU mode of the `cpu` columns).
    pub fixed: &'static [(&'static str, &'static str)],
}

/// Row columns that label every sample of a probe: (label name, row column).
pub type Labels = &'static [(&'static str, &'static str)];

pub const fn gauge(column: &'static str, family: &'static str, help: &'static str) -> Export {
    Export {
        column,
        family,
        kind: Kind::Gauge,
        help,
        convert: Convert::AsRead,
        fixed: &[],
    }
}

pub const fn counter(column: &'static str, family: &'static str, help: &'static str) -> Export {
    Export {
        kind: Kind::Counter,
        ..gauge(column, family, help)
    }
}

impl Export {
    pub const fn divide(self, by: f64) -> Export {
        Export {
            convert: Convert::Divide(by),
            ..self
        }
    }

    pub const fn timestamp(self) -> Export {
        Export {
            convert: Convert::Timestamp,
            ..self
        }
    }

    pub const fn with(self, fixed: &'static [(&'static str, &'static str)]) -> Export {
        Export { fixed, ..self }
    }
}
