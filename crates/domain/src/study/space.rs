//! The search space of a study, in Qdrant's vocabulary: the builds (HNSW graph and quantization)
//! to make and the search settings to measure on each.
//!
//! Every list is read as a set: duplicates are measured once, and the expansion order is fixed so
//! that a study plans the same measurements every time it is run.

use std::collections::BTreeMap;

use crate::{
    IndexConfig, OptimizerConfig, ProductCompression, Quantization, ScalarType, SearchConfig, SearchQuantization,
    VectorName,
};

/// One quantization a study may build with.
///
/// Quantization in qbench is collection-wide (one [`OptimizerConfig::quantization`] for every
/// vector), so it is one dimension of the space, not one per vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuantizationChoice {
    /// Original vectors only.
    None,
    /// Scalar quantization with this element type.
    Scalar(ScalarType),
    /// Product quantization with this compression ratio.
    Product(ProductCompression),
    /// Binary quantization.
    Binary,
}

impl QuantizationChoice {
    /// The quantization to configure, with Qdrant's defaults for quantile and `always_ram`.
    pub fn quantization(self) -> Option<Quantization> {
        match self {
            Self::None => None,
            Self::Scalar(scalar_type) => Some(Quantization::Scalar { scalar_type, quantile: None, always_ram: None }),
            Self::Product(compression) => Some(Quantization::Product { compression, always_ram: None }),
            Self::Binary => Some(Quantization::Binary { always_ram: None }),
        }
    }

    /// The choice a configured quantization belongs to (its quantile and `always_ram` aside).
    pub fn of(quantization: Option<&Quantization>) -> Self {
        match quantization {
            None => Self::None,
            Some(Quantization::Scalar { scalar_type, .. }) => Self::Scalar(*scalar_type),
            Some(Quantization::Product { compression, .. }) => Self::Product(*compression),
            Some(Quantization::Binary { .. }) => Self::Binary,
        }
    }

    /// A short name for labels: `none`, `int8`, `product-x16`, `binary`.
    pub fn label(self) -> String {
        match self {
            Self::None => "none".to_owned(),
            Self::Scalar(ScalarType::Int8) => "int8".to_owned(),
            Self::Product(compression) => format!("product-{compression}"),
            Self::Binary => "binary".to_owned(),
        }
    }
}

/// The graph settings to try for one vector; the builds take every combination.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VectorBuildSpace {
    /// HNSW edges per node.
    pub m: Vec<u32>,
    /// Neighbours considered while building.
    pub ef_construct: Vec<u32>,
    /// Keep the HNSW graph on disk (`hnsw_config.on_disk`) rather than in RAM; `[false]` when omitted.
    #[serde(default = "in_ram")]
    pub on_disk: Vec<bool>,
}

fn in_ram() -> Vec<bool> {
    vec![false]
}

impl VectorBuildSpace {
    /// Every combination of `m` and `ef_construct`, graph in RAM.
    pub fn new(m: impl Into<Vec<u32>>, ef_construct: impl Into<Vec<u32>>) -> Self {
        Self { m: m.into(), ef_construct: ef_construct.into(), on_disk: in_ram() }
    }

    /// The distinct graph settings, `m` varying slowest and `on_disk` fastest.
    pub fn builds(&self) -> Vec<VectorBuild> {
        let mut builds = Vec::new();
        for &m in &distinct(&self.m) {
            for &ef_construct in &distinct(&self.ef_construct) {
                for &on_disk in &distinct(&self.on_disk) {
                    builds.push(VectorBuild { m, ef_construct, on_disk });
                }
            }
        }
        builds
    }

    fn size(&self) -> u64 {
        len(&distinct(&self.m))
            .saturating_mul(len(&distinct(&self.ef_construct)))
            .saturating_mul(len(&distinct(&self.on_disk)))
    }
}

/// The graph settings to try, per vector.
pub type BuildSpace = BTreeMap<VectorName, VectorBuildSpace>;

/// The `hnsw_ef` values to measure.
///
/// A list is measured as given (sorted, duplicates once). A range serves the `auto` strategy, which
/// bisects it; the `grid` strategy expands it to its bounds and the powers of two between them
/// (`{min: 24, max: 300}` gives 24, 32, 64, 128, 256, 300), a geometric ladder because recall
/// grows roughly with the logarithm of `hnsw_ef`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum EfValues {
    /// These values.
    List(Vec<u32>),
    /// Every value from `min` to `max`, both included.
    Range {
        /// Smallest value.
        min: u32,
        /// Largest value.
        max: u32,
    },
}

impl EfValues {
    /// The values the grid measures, ascending; empty for an empty list or a range with `min > max`.
    pub fn grid(&self) -> Vec<u32> {
        match self {
            Self::List(values) => {
                let mut values = values.clone();
                values.sort_unstable();
                values.dedup();
                values
            }
            Self::Range { min, max } if min > max => Vec::new(),
            Self::Range { min, max } => {
                let mut values = vec![*min];
                let mut power = 1u64;
                while power < u64::from(*max) {
                    if power > u64::from(*min) {
                        values.extend(u32::try_from(power).ok());
                    }
                    power *= 2;
                }
                if max > min {
                    values.push(*max);
                }
                values
            }
        }
    }
}

/// The search-time settings to try on every build.
///
/// The quantization lists apply to quantized builds only. An empty list leaves that parameter to
/// Qdrant's default rather than making the space empty.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchSpace {
    /// Candidates searched per query.
    pub hnsw_ef: EfValues,
    /// Also measure exact (brute-force) search, the reference every approximate setting is
    /// compared with.
    #[serde(default)]
    pub exact: bool,
    /// Re-score quantized candidates with the original vectors.
    #[serde(default)]
    pub rescore: Vec<bool>,
    /// Fetch `oversampling × k` quantized candidates before re-scoring.
    #[serde(default)]
    pub oversampling: Vec<f64>,
    /// Ignore the quantized vectors altogether.
    #[serde(default)]
    pub ignore: Vec<bool>,
}

impl SearchSpace {
    /// A space of these `hnsw_ef` values and nothing else.
    pub fn ef(hnsw_ef: EfValues) -> Self {
        Self { hnsw_ef, exact: false, rescore: Vec::new(), oversampling: Vec::new(), ignore: Vec::new() }
    }

    /// The quantization parameters to try on a quantized build; `None` is Qdrant's defaults.
    ///
    /// `ignore: true` makes `rescore` and `oversampling` meaningless, so it is tried once alone.
    fn quantization_choices(&self) -> Vec<Option<SearchQuantizationChoice>> {
        let mut choices = Vec::new();
        for ignore in optional(&self.ignore) {
            if ignore == Some(true) {
                choices.push(Some(SearchQuantizationChoice { ignore, rescore: None, oversampling: None }));
                continue;
            }
            for rescore in optional(&self.rescore) {
                for oversampling in optional(&self.oversampling) {
                    let choice = SearchQuantizationChoice { ignore, rescore, oversampling };
                    choices.push((choice != SearchQuantizationChoice::default()).then_some(choice));
                }
            }
        }
        choices
    }

    /// `quantization_choices().len()` without building them.
    fn quantization_choice_count(&self) -> u64 {
        let combined = len(&optional(&self.rescore)).saturating_mul(len(&optional(&self.oversampling)));
        optional(&self.ignore).iter().map(|ignore| if *ignore == Some(true) { 1 } else { combined }).sum()
    }

    fn setting_count(&self, quantized: bool) -> u64 {
        let per_ef = if quantized { self.quantization_choice_count() } else { 1 };
        len(&self.hnsw_ef.grid()).saturating_mul(per_ef).saturating_add(u64::from(self.exact))
    }
}

/// Everything a study may try: builds, quantization, search settings and client counts.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudySpace {
    /// Graph settings per vector.
    pub vectors: BuildSpace,
    /// Collection-wide quantization choices; `[none]` when omitted.
    #[serde(default = "unquantized")]
    pub quantization: Vec<QuantizationChoice>,
    /// Search settings tried on every build.
    pub search: SearchSpace,
    /// Concurrent search clients; each setting is measured with each count. `[1]` when omitted.
    #[serde(default = "one_client")]
    pub parallel: Vec<u32>,
}

fn unquantized() -> Vec<QuantizationChoice> {
    vec![QuantizationChoice::None]
}

fn one_client() -> Vec<u32> {
    vec![1]
}

/// How much a space expands to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpaceSize {
    /// Collections to build.
    pub builds: u64,
    /// Measurements: Σ over builds of search settings × client counts (repetitions not counted).
    pub measurements: u64,
}

impl StudySpace {
    /// Every build, in a fixed order: the first vector's settings vary slowest (`m`, then
    /// `ef_construct`, then `on_disk`), quantization fastest. An empty `vectors` builds nothing.
    pub fn builds(&self) -> Vec<BuildConfig> {
        let mut graphs: Vec<BTreeMap<VectorName, VectorBuild>> =
            if self.vectors.is_empty() { Vec::new() } else { vec![BTreeMap::new()] };
        for (name, space) in &self.vectors {
            let options = space.builds();
            graphs = graphs
                .iter()
                .flat_map(|graph| {
                    options.iter().map(move |option| {
                        let mut graph = graph.clone();
                        graph.insert(name.clone(), *option);
                        graph
                    })
                })
                .collect();
        }
        let quantizations = distinct(&self.quantization);
        graphs
            .into_iter()
            .flat_map(|vectors| {
                quantizations
                    .iter()
                    .map(move |choice| BuildConfig { vectors: vectors.clone(), quantization: choice.quantization() })
            })
            .collect()
    }

    /// The search settings measured on `build`, distinct: every `hnsw_ef` with every quantization
    /// parameter combination (on a quantized build only), then exact search if asked for. Exact
    /// search on a quantized build sets `ignore: true`, so that it stays the exact reference.
    pub fn search_settings(&self, build: &BuildConfig) -> Vec<SearchSettingChoice> {
        let quantized = build.quantization.is_some();
        let quantizations = if quantized { self.search.quantization_choices() } else { vec![None] };
        let mut settings = Vec::new();
        for ef in self.search.hnsw_ef.grid() {
            for quantization in &quantizations {
                settings.push(SearchSettingChoice { hnsw_ef: Some(ef), exact: false, quantization: *quantization });
            }
        }
        if self.search.exact {
            let quantization =
                quantized.then_some(SearchQuantizationChoice { ignore: Some(true), rescore: None, oversampling: None });
            settings.push(SearchSettingChoice { hnsw_ef: None, exact: true, quantization });
        }
        distinct(&settings)
    }

    /// How many builds and measurements the grid of this space makes, counted without expanding
    /// the builds, saturating at `u64::MAX`.
    pub fn count(&self) -> SpaceSize {
        let graphs = if self.vectors.is_empty() {
            0
        } else {
            self.vectors.values().fold(1u64, |total, space| total.saturating_mul(space.size()))
        };
        let quantizations = distinct(&self.quantization);
        let quantized = quantizations.iter().filter(|choice| **choice != QuantizationChoice::None).count();
        let plain = quantizations.len() - quantized;
        let settings = (plain as u64)
            .saturating_mul(self.search.setting_count(false))
            .saturating_add((quantized as u64).saturating_mul(self.search.setting_count(true)));
        SpaceSize {
            builds: graphs.saturating_mul(quantizations.len() as u64),
            measurements: graphs.saturating_mul(settings).saturating_mul(len(&distinct(&self.parallel))),
        }
    }

    /// The distinct client counts, in the order given.
    pub fn client_counts(&self) -> Vec<u32> {
        distinct(&self.parallel)
    }
}

/// The graph settings of one vector in one build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VectorBuild {
    /// HNSW edges per node.
    pub m: u32,
    /// Neighbours considered while building.
    pub ef_construct: u32,
    /// The HNSW graph is kept on disk.
    pub on_disk: bool,
}

impl VectorBuild {
    /// The index configuration; `on_disk` is left to Qdrant's default (in RAM) when false.
    pub fn index_config(&self) -> IndexConfig {
        IndexConfig { on_disk: self.on_disk.then_some(true), ..IndexConfig::hnsw(self.m, self.ef_construct) }
    }

    fn label(&self) -> String {
        let disk = if self.on_disk { ",on_disk" } else { "" };
        format!("m={},ef_construct={}{disk}", self.m, self.ef_construct)
    }
}

/// One collection a study builds: graph settings per vector and collection-wide quantization.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BuildConfig {
    /// Graph settings per vector.
    pub vectors: BTreeMap<VectorName, VectorBuild>,
    /// Quantization of every vector, or none.
    pub quantization: Option<Quantization>,
}

impl BuildConfig {
    /// A stable short label: `m=16,ef_construct=128,int8` for one vector,
    /// `image(m=16,ef_construct=64),text(m=32,ef_construct=128,on_disk)` for several; the
    /// quantization is appended unless there is none.
    pub fn label(&self) -> String {
        let mut label = match self.vectors.iter().next() {
            Some((_, build)) if self.vectors.len() == 1 => build.label(),
            _ => {
                let parts: Vec<String> =
                    self.vectors.iter().map(|(name, build)| format!("{name}({})", build.label())).collect();
                parts.join(",")
            }
        };
        if self.quantization.is_some() {
            label.push(',');
            label.push_str(&QuantizationChoice::of(self.quantization.as_ref()).label());
        }
        label
    }

    /// The experiment settings that make this build.
    pub fn optimizer_config(&self) -> OptimizerConfig {
        OptimizerConfig {
            indexing: self.vectors.iter().map(|(name, build)| (name.clone(), build.index_config())).collect(),
            quantization: self.quantization.clone(),
        }
    }
}

impl From<&BuildConfig> for OptimizerConfig {
    fn from(build: &BuildConfig) -> Self {
        build.optimizer_config()
    }
}

/// Search-time use of quantized vectors (Qdrant's `QuantizationSearchParams`); `None` fields are
/// Qdrant's defaults. `Copy`, unlike [`crate::SearchQuantization`], which it becomes in an
/// experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchQuantizationChoice {
    /// Search the original vectors only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<bool>,
    /// Re-score the candidates with the original vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescore: Option<bool>,
    /// Fetch `oversampling × k` candidates before re-scoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversampling: Option<f64>,
}

impl SearchQuantizationChoice {
    /// The experiment's form of these parameters; `None` when none is set (Qdrant's defaults).
    pub fn search_quantization(self) -> Option<SearchQuantization> {
        let Self { ignore, rescore, oversampling } = self;
        (ignore.is_some() || rescore.is_some() || oversampling.is_some()).then_some(SearchQuantization {
            ignore,
            rescore,
            oversampling,
        })
    }

    /// The choice these experiment parameters make.
    pub fn of(quantization: &SearchQuantization) -> Self {
        Self { ignore: quantization.ignore, rescore: quantization.rescore, oversampling: quantization.oversampling }
    }

    /// The parameters that are set, as `ignore=true,rescore=false,oversampling=2`.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ignore) = self.ignore {
            parts.push(format!("ignore={ignore}"));
        }
        if let Some(rescore) = self.rescore {
            parts.push(format!("rescore={rescore}"));
        }
        if let Some(oversampling) = self.oversampling {
            parts.push(format!("oversampling={oversampling}"));
        }
        parts.join(",")
    }
}

/// One search setting measured on a build.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchSettingChoice {
    /// Candidates searched per query; `None` for exact search.
    pub hnsw_ef: Option<u32>,
    /// Exact (brute-force) search.
    pub exact: bool,
    /// Quantization parameters, on a quantized build only.
    pub quantization: Option<SearchQuantizationChoice>,
}

impl SearchSettingChoice {
    /// A stable short label: `hnsw_ef=64`, `hnsw_ef=64,rescore=true,oversampling=2`, `exact,ignore=true`.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if self.exact {
            parts.push("exact".to_owned());
        }
        if let Some(ef) = self.hnsw_ef {
            parts.push(format!("hnsw_ef={ef}"));
        }
        if let Some(quantization) = &self.quantization {
            parts.push(quantization.label());
        }
        if parts.is_empty() {
            return "default".to_owned();
        }
        parts.join(",")
    }

    /// The experiment search settings that measure this setting: `base` (its `k`, clients, query
    /// limit and vectors) with this `hnsw_ef`, `exact` and quantization parameters.
    pub fn search_config(&self, base: &SearchConfig) -> SearchConfig {
        SearchConfig {
            hnsw_ef: self.hnsw_ef.into_iter().collect(),
            exact: self.exact,
            quantization: self.quantization.and_then(SearchQuantizationChoice::search_quantization),
            ..base.clone()
        }
    }
}

/// The values of `values`, each once, in the order first given.
fn distinct<T: PartialEq + Clone>(values: &[T]) -> Vec<T> {
    let mut seen: Vec<T> = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(value) {
            seen.push(value.clone());
        }
    }
    seen
}

/// The distinct values as `Some`, or a single `None` (Qdrant's default) when there are none.
fn optional<T: PartialEq + Clone>(values: &[T]) -> Vec<Option<T>> {
    let values = distinct(values);
    if values.is_empty() { vec![None] } else { values.into_iter().map(Some).collect() }
}

fn len<T>(values: &[T]) -> u64 {
    values.len() as u64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use expect_test::expect;

    use super::*;

    fn name(name: &str) -> VectorName {
        name.parse().unwrap()
    }

    fn dense(m: &[u32], ef_construct: &[u32]) -> BuildSpace {
        [(name("dense"), VectorBuildSpace::new(m, ef_construct))].into()
    }

    fn space(vectors: BuildSpace, quantization: &[QuantizationChoice], search: SearchSpace) -> StudySpace {
        StudySpace { vectors, quantization: quantization.to_vec(), search, parallel: vec![1] }
    }

    fn build_labels(space: &StudySpace) -> String {
        space.builds().iter().map(BuildConfig::label).collect::<Vec<_>>().join("\n")
    }

    fn setting_labels(settings: &[SearchSettingChoice]) -> String {
        settings.iter().map(SearchSettingChoice::label).collect::<Vec<_>>().join("\n")
    }

    const INT8: QuantizationChoice = QuantizationChoice::Scalar(ScalarType::Int8);

    #[test]
    fn builds_are_the_cartesian_product_with_quantization_varying_fastest() {
        let space = space(
            dense(&[16, 32], &[64, 128]),
            &[QuantizationChoice::None, INT8],
            SearchSpace::ef(EfValues::List(vec![64])),
        );
        expect![[r#"
            m=16,ef_construct=64
            m=16,ef_construct=64,int8
            m=16,ef_construct=128
            m=16,ef_construct=128,int8
            m=32,ef_construct=64
            m=32,ef_construct=64,int8
            m=32,ef_construct=128
            m=32,ef_construct=128,int8"#]]
        .assert_eq(&build_labels(&space));
    }

    #[test]
    fn builds_of_two_vectors_combine_each_vectors_settings_and_name_them() {
        let mut vectors = dense(&[16], &[64]);
        vectors
            .insert(name("image"), VectorBuildSpace { m: vec![8], ef_construct: vec![32], on_disk: vec![false, true] });
        let space = space(
            vectors,
            &[QuantizationChoice::Product(ProductCompression::X16)],
            SearchSpace::ef(EfValues::List(vec![64])),
        );
        expect![[r#"
            dense(m=16,ef_construct=64),image(m=8,ef_construct=32),product-x16
            dense(m=16,ef_construct=64),image(m=8,ef_construct=32,on_disk),product-x16"#]]
        .assert_eq(&build_labels(&space));
    }

    #[test]
    fn duplicate_values_are_built_once() {
        let space = space(
            dense(&[16, 16], &[64, 64]),
            &[INT8, INT8, QuantizationChoice::Binary],
            SearchSpace::ef(EfValues::List(vec![64])),
        );
        expect![[r#"
            m=16,ef_construct=64,int8
            m=16,ef_construct=64,binary"#]]
        .assert_eq(&build_labels(&space));
    }

    #[test]
    fn a_space_without_vectors_builds_nothing() {
        let space = space(BuildSpace::new(), &[QuantizationChoice::None], SearchSpace::ef(EfValues::List(vec![64])));
        assert!(space.builds().is_empty());
        assert_eq!(space.count(), SpaceSize { builds: 0, measurements: 0 });
    }

    #[test]
    fn a_range_expands_to_its_bounds_and_the_powers_of_two_between() {
        assert_eq!(EfValues::Range { min: 24, max: 300 }.grid(), [24, 32, 64, 128, 256, 300]);
        assert_eq!(EfValues::Range { min: 32, max: 128 }.grid(), [32, 64, 128]);
        assert_eq!(EfValues::Range { min: 64, max: 64 }.grid(), [64]);
        assert_eq!(EfValues::Range { min: 1, max: 4 }.grid(), [1, 2, 4]);
        assert!(EfValues::Range { min: 128, max: 64 }.grid().is_empty());
    }

    #[test]
    fn a_list_is_measured_ascending_and_once() {
        assert_eq!(EfValues::List(vec![128, 32, 128, 64]).grid(), [32, 64, 128]);
    }

    #[test]
    fn quantization_search_parameters_apply_to_quantized_builds_only() {
        let search = SearchSpace {
            hnsw_ef: EfValues::List(vec![64]),
            exact: true,
            rescore: vec![true, false],
            oversampling: vec![1.0, 2.0],
            ignore: vec![false, true],
        };
        let space = space(dense(&[16], &[64]), &[QuantizationChoice::None, INT8], search);
        let builds = space.builds();
        expect![[r#"
            hnsw_ef=64
            exact"#]]
        .assert_eq(&setting_labels(&space.search_settings(&builds[0])));
        expect![[r#"
            hnsw_ef=64,ignore=false,rescore=true,oversampling=1
            hnsw_ef=64,ignore=false,rescore=true,oversampling=2
            hnsw_ef=64,ignore=false,rescore=false,oversampling=1
            hnsw_ef=64,ignore=false,rescore=false,oversampling=2
            hnsw_ef=64,ignore=true
            exact,ignore=true"#]]
        .assert_eq(&setting_labels(&space.search_settings(&builds[1])));
    }

    #[test]
    fn empty_quantization_lists_leave_qdrants_defaults() {
        let space = space(dense(&[16], &[64]), &[INT8], SearchSpace::ef(EfValues::List(vec![32, 64])));
        let settings = space.search_settings(&space.builds()[0]);
        assert_eq!(
            settings,
            [
                SearchSettingChoice { hnsw_ef: Some(32), exact: false, quantization: None },
                SearchSettingChoice { hnsw_ef: Some(64), exact: false, quantization: None },
            ]
        );
    }

    #[test]
    fn count_agrees_with_the_expanded_grid() {
        let quantized_search = SearchSpace {
            hnsw_ef: EfValues::Range { min: 16, max: 200 },
            exact: true,
            rescore: vec![true, false, true],
            oversampling: vec![1.5, 3.0],
            ignore: vec![true, false],
        };
        let mut two_vectors = dense(&[8, 16, 32], &[64, 128]);
        two_vectors.insert(
            name("image"),
            VectorBuildSpace { m: vec![16], ef_construct: vec![100], on_disk: vec![true, false] },
        );
        let spaces = [
            space(dense(&[16], &[64]), &[QuantizationChoice::None], SearchSpace::ef(EfValues::List(vec![64]))),
            space(dense(&[16, 32], &[64]), &[QuantizationChoice::None, INT8], quantized_search.clone()),
            StudySpace {
                parallel: vec![1, 4, 4, 16],
                ..space(two_vectors, &[INT8, QuantizationChoice::Binary, QuantizationChoice::None], quantized_search)
            },
        ];
        for space in spaces {
            let builds = space.builds();
            let settings: usize = builds.iter().map(|build| space.search_settings(build).len()).sum();
            let expected = SpaceSize {
                builds: builds.len() as u64,
                measurements: (settings * space.client_counts().len()) as u64,
            };
            assert_eq!(space.count(), expected, "{space:?}");
        }
    }

    #[test]
    fn count_saturates_instead_of_overflowing() {
        let values: Vec<u32> = (1..=100).collect();
        let vectors: BuildSpace =
            (0..8).map(|i| (name(&format!("v{i}")), VectorBuildSpace::new(values.clone(), values.clone()))).collect();
        let space = space(vectors, &[QuantizationChoice::None], SearchSpace::ef(EfValues::List(vec![64])));
        assert_eq!(space.count(), SpaceSize { builds: u64::MAX, measurements: u64::MAX });
    }

    #[test]
    fn a_build_becomes_the_experiments_optimizer_config() {
        let build = BuildConfig {
            vectors: [(name("dense"), VectorBuild { m: 32, ef_construct: 256, on_disk: true })].into(),
            quantization: INT8.quantization(),
        };
        let config = build.optimizer_config();
        assert_eq!(
            config.indexing.get(&name("dense")),
            Some(&IndexConfig { on_disk: Some(true), ..IndexConfig::hnsw(32, 256) })
        );
        assert_eq!(config.quantization, INT8.quantization());
        assert_eq!(build.label(), "m=32,ef_construct=256,on_disk,int8");
        let in_ram = VectorBuild { m: 16, ef_construct: 100, on_disk: false };
        assert_eq!(in_ram.index_config(), IndexConfig::hnsw(16, 100));
    }

    #[test]
    fn a_search_setting_becomes_the_experiments_search_config() {
        let base = SearchConfig { k: 20, parallel: 4, hnsw_ef: vec![1, 2], ..SearchConfig::default() };
        let setting = SearchSettingChoice {
            hnsw_ef: Some(128),
            exact: false,
            quantization: Some(SearchQuantizationChoice {
                ignore: Some(false),
                rescore: Some(true),
                oversampling: Some(2.0),
            }),
        };
        assert_eq!(
            setting.search_config(&base),
            SearchConfig {
                hnsw_ef: vec![128],
                quantization: Some(SearchQuantization {
                    ignore: Some(false),
                    rescore: Some(true),
                    oversampling: Some(2.0)
                }),
                ..base.clone()
            }
        );
        let exact = SearchSettingChoice { hnsw_ef: None, exact: true, quantization: None };
        assert_eq!(exact.search_config(&base), SearchConfig { hnsw_ef: vec![], exact: true, ..base.clone() });
        let ignoring = SearchSettingChoice {
            quantization: Some(SearchQuantizationChoice { ignore: Some(true), rescore: None, oversampling: None }),
            ..exact
        };
        let ignored = SearchQuantization { ignore: Some(true), rescore: None, oversampling: None };
        assert_eq!(ignoring.search_config(&base).quantization, Some(ignored));
    }

    #[test]
    fn a_quantization_choice_round_trips_through_the_configured_quantization() {
        for choice in [
            QuantizationChoice::None,
            INT8,
            QuantizationChoice::Product(ProductCompression::X64),
            QuantizationChoice::Binary,
        ] {
            assert_eq!(QuantizationChoice::of(choice.quantization().as_ref()), choice);
        }
    }

    #[test]
    fn a_space_reads_from_json_with_defaults_and_untagged_ef_values() {
        let space: StudySpace = serde_json::from_str(
            r#"{"vectors": {"dense": {"m": [16], "ef_construct": [128]}},
                "search": {"hnsw_ef": {"min": 16, "max": 512}}}"#,
        )
        .unwrap();
        assert_eq!(space.quantization, [QuantizationChoice::None]);
        assert_eq!(space.parallel, [1]);
        assert_eq!(space.search.hnsw_ef, EfValues::Range { min: 16, max: 512 });
        let quantization: Vec<QuantizationChoice> =
            serde_json::from_str(r#"["none", {"scalar": "int8"}, {"product": "x16"}, "binary"]"#).unwrap();
        assert_eq!(
            quantization,
            [
                QuantizationChoice::None,
                INT8,
                QuantizationChoice::Product(ProductCompression::X16),
                QuantizationChoice::Binary
            ]
        );
    }
}
