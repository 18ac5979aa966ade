//! Numbers as a reader wants them: latency in milliseconds, few digits, bytes in MiB.

/// Seconds as milliseconds with three significant-ish decimals (`0.412 ms`).
pub fn ms(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// A QPS figure without decimals past the hundreds.
pub fn qps(value: f64) -> String {
    if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// A recall, precision or F1 to four decimals.
pub fn ratio(value: f64) -> String {
    format!("{value:.4}")
}

/// A duration in seconds for a reader (`4.2 s`, `3 min 5 s`).
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

/// Bytes in KiB, MiB or GiB.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut amount = value as f64;
    let mut unit = 0;
    while amount >= 1024.0 && unit < UNITS.len() - 1 {
        amount /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value} B") } else { format!("{amount:.1} {}", UNITS[unit]) }
}

/// A mean with its 95 % interval's half width (`4422 ± 31`).
pub fn with_interval(mean: String, half_width: Option<String>) -> String {
    match half_width {
        Some(half) => format!("{mean} ± {half}"),
        None => mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_reads_in_milliseconds_and_bytes_in_binary_units() {
        assert_eq!(ms(0.000_412_3), "0.412 ms");
        assert_eq!(ms(0.0123), "12.3 ms");
        assert_eq!(ms(0.25), "250 ms");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(duration(185.0), "3 min 5 s");
        assert_eq!(qps(4421.7), "4422");
    }
}
