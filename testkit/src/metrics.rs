//! Reading counters out of Prometheus text, as `/metrics` serves it.

/// The sum of a counter family's samples in Prometheus text, filtered by a label substring
/// (`""`: every sample of the family).
pub fn sum_metric(text: &str, name: &str, label_filter: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
        .filter(|l| l.contains(label_filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::sum_metric;

    #[test]
    fn sums_one_family_by_label() {
        let text = "# TYPE ship_requests_total counter\n\
            ship_requests_total{outcome=\"landed\"} 3\n\
            ship_requests_total{outcome=\"denied\"} 2\n\
            ship_requests_total_other{outcome=\"landed\"} 100\n";
        assert_eq!(sum_metric(text, "ship_requests_total", ""), 5);
        assert_eq!(sum_metric(text, "ship_requests_total", "landed"), 3);
        assert_eq!(sum_metric(text, "nope", ""), 0);
    }
}
