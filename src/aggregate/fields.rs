//! Which fields to aggregate: the ones named (checked against the rows), or
//! every numeric field the rows have (`all`). A [`Survey`] looks at rows one
//! at a time, so a run can decide without holding them.

use crate::dataset::{Dataset, Row};
use crate::time::format_utc;

/// Why the fields asked for cannot be aggregated.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    /// A named field holding a non-number (exit 3).
    #[error("field {field} of {dataset} is not numeric at {time}: {value}")]
    NotNumeric {
        dataset: String,
        field: String,
        time: String,
        value: String,
    },
    /// A named field absent from every row (exit 2: a typo, most likely).
    #[error(
        "--fields / EDS_FIELDS: field {field} is absent from every row of {dataset}{} (fields seen: {})",
        guess.as_ref().map(|g| format!("; did you mean {g}?")).unwrap_or_default(),
        seen.join(",")
    )]
    Absent {
        dataset: String,
        field: String,
        guess: Option<String>,
        seen: Vec<String>,
    },
}

impl crate::exit::Staged for FieldError {
    fn exit(&self) -> crate::exit::Exit {
        match self {
            FieldError::NotNumeric { .. } => crate::exit::Exit::Data,
            FieldError::Absent { .. } => crate::exit::Exit::Usage,
        }
    }
}

/// What the rows seen so far say about the fields.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// Field names in the order they first appear, and whether every row
    /// that has the field has it as a number (or null).
    seen: Vec<(String, bool)>,
    /// For named fields: the first non-number (field, row time, value).
    bad: Option<(String, String, String)>,
    rows: u64,
}

impl Survey {
    /// Takes one row into account (`named`: the fields asked for, if any).
    pub fn add(&mut self, row: &Row, named: Option<&[String]>) {
        self.rows += 1;
        for name in row.fields.keys() {
            if !self.seen.iter().any(|(s, _)| s == name) {
                self.seen.push((name.clone(), true));
            }
        }
        for (name, numeric) in self.seen.iter_mut().filter(|(_, n)| *n) {
            if let Err(bad) = row.number(name) {
                *numeric = false;
                let asked = named.is_some_and(|n| n.iter().any(|f| f == name));
                if asked && self.bad.is_none() {
                    self.bad = Some((name.clone(), format_utc(row.time), bad.0.to_string()));
                }
            }
        }
    }

    /// The fields to aggregate: the ones named, or every numeric field seen
    /// for `all`. A named field absent from every row is a usage error (exit
    /// 2: a typo, most likely; the message lists the fields seen and the
    /// closest one), one holding a non-number a data error (exit 3).
    pub fn fields(
        &self,
        dataset: &Dataset,
        named: Option<&[String]>,
    ) -> Result<Vec<String>, FieldError> {
        let Some(names) = named else {
            return Ok((self.seen.iter())
                .filter(|(f, numeric)| *numeric && !dataset.is_index_column(f))
                .map(|(f, _)| f.clone())
                .collect());
        };
        if let Some((name, time, value)) = &self.bad {
            return Err(FieldError::NotNumeric {
                dataset: dataset.name.clone(),
                field: name.clone(),
                time: time.clone(),
                value: value.clone(),
            });
        }
        for name in names {
            if self.rows > 0 && !self.seen.iter().any(|(s, _)| s == name) {
                return Err(self.absent_field(dataset, name));
            }
        }
        Ok(names.to_vec())
    }

    /// The usage error for a named field no row has.
    fn absent_field(&self, dataset: &Dataset, name: &str) -> FieldError {
        let seen: Vec<String> = (self.seen.iter())
            .map(|(f, _)| f.clone())
            .filter(|f| !dataset.is_index_column(f))
            .collect();
        FieldError::Absent {
            dataset: dataset.name.clone(),
            field: name.to_string(),
            guess: closest(name, &seen).map(str::to_string),
            seen,
        }
    }
}

/// [`Survey::fields`] over rows held in memory.
pub fn resolve_fields(
    dataset: &Dataset,
    named: Option<&[String]>,
    rows: &[Row],
) -> Result<Vec<String>, FieldError> {
    let mut survey = Survey::default();
    for row in rows {
        survey.add(row, named);
    }
    survey.fields(dataset, named)
}

/// The candidate nearest to `name` (edit distance, ignoring case), when near
/// enough to be what was meant: at most one edit in three characters.
fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&wanted, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= (wanted.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_the_closest_field() {
        let seen: Vec<String> = ["CO2Emission", "SolarPower", "Exchange_Sum"]
            .map(String::from)
            .to_vec();
        assert_eq!(closest("CO2Emision", &seen), Some("CO2Emission"));
        assert_eq!(closest("solarpower", &seen), Some("SolarPower"));
        assert_eq!(closest("Exchange_Summ", &seen), Some("Exchange_Sum"));
        assert_eq!(closest("Nope", &seen), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
