//! `name:dim[:distance]` lists, as the CLI takes vectors.

use std::collections::BTreeMap;
use std::str::FromStr;

use qbench_domain::{Dimension, Distance, VectorName, VectorSpec};

/// Named vectors given on the command line, e.g. `text:768:Cosine,image:512:Euclid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorList(pub BTreeMap<VectorName, VectorSpec>);

impl FromStr for VectorList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut vectors = BTreeMap::new();
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let parts: Vec<&str> = item.split(':').collect();
            let (name, dim, distance) = match parts.as_slice() {
                [name, dim] => (*name, *dim, "Cosine"),
                [name, dim, distance] => (*name, *dim, *distance),
                _ => return Err(format!("`{item}`: expected name:dim or name:dim:distance")),
            };
            let name: VectorName = name.parse().map_err(|err| format!("`{item}`: {err}"))?;
            let dim = dim
                .parse::<u32>()
                .map_err(|_| format!("`{item}`: dim `{dim}` is not a number"))
                .and_then(|dim| Dimension::new(dim).map_err(|err| format!("`{item}`: {err}")))?;
            let distance: Distance = distance.parse().map_err(|err| format!("`{item}`: {err}"))?;
            if vectors.insert(name, VectorSpec::new(dim, distance)).is_some() {
                return Err(format!("`{item}`: vector named twice"));
            }
        }
        if vectors.is_empty() {
            return Err("at least one vector is needed".to_owned());
        }
        Ok(Self(vectors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_named_vectors_with_default_distance() {
        let list: VectorList = "text:768:Cosine, image:512:euclidean,raw:4".parse().unwrap();
        assert_eq!(list.0.len(), 3);
        assert_eq!(list.0[&"image".parse::<VectorName>().unwrap()].distance, Distance::Euclid);
        assert_eq!(list.0[&"raw".parse::<VectorName>().unwrap()].distance, Distance::Cosine);
    }

    #[test]
    fn errors_name_the_item_at_fault() {
        for (input, needle) in [
            ("text", "expected name:dim"),
            ("text:x", "`x` is not a number"),
            ("text:0", "outside"),
            ("text:4:hamming", "hamming"),
            ("a:4,a:8", "twice"),
        ] {
            let err = input.parse::<VectorList>().unwrap_err();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}
