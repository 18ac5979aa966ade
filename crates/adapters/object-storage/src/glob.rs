//! File-name patterns of glob sources (`prefix/*.parquet`).

/// Whether `name` matches `pattern`, where `*` matches any run of characters (also none) and `?`
/// exactly one; everything else matches itself.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was, and the name position it is currently taken to end at.
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            Some(_) | None => match backtrack {
                // Let the last `*` swallow one more character and try again.
                Some((star, end)) => {
                    backtrack = Some((star, end + 1));
                    p = star + 1;
                    n = end + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether a path segment is a pattern: it has a `*` (a `?` alone is an ordinary character, since
/// keys may contain one).
pub(crate) fn is_pattern(segment: &str) -> bool {
    segment.contains('*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        for (pattern, name, expected) in [
            ("*.parquet", "train-00.parquet", true),
            ("*.parquet", "train.csv", false),
            ("train-*-of-*.parquet", "train-01-of-10.parquet", true),
            ("train-??.parquet", "train-01.parquet", true),
            ("train-??.parquet", "train-1.parquet", false),
            ("*", "", true),
            ("a*b*c", "abxbc", true),
            ("a*b*c", "abxbd", false),
        ] {
            assert_eq!(matches(pattern, name), expected, "{pattern} vs {name}");
        }
    }
}
