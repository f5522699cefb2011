//! The catalogue of known datasets: one entry per Energi Data Service
//! dataset this program knows, with everything the rest of the program
//! reads about it: its time columns, key columns and resolution (how rows
//! are read and cut into windows), its known value fields and their units
//! (the records' schemas, the values that must be numbers, the chart's
//! axes), the fields aggregated by default, and how late a key may be. The
//! docs' dataset table is [`markdown_table`], checked against
//! docs/reference.md by a test. Adding a known dataset is one entry here
//! (and a test of it).

use chrono::TimeDelta;

/// A value field known for certain: a number or null in every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub unit: &'static str,
}

/// One known dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    /// The row's time in UTC: every window is cut on this column.
    pub time_column: &'static str,
    /// The same time in Danish local time.
    pub dk_column: &'static str,
    /// A row is its time and these, in this order.
    pub key_columns: &'static [&'static str],
    /// The step between row times, in minutes.
    pub resolution_minutes: i64,
    /// The value fields known for certain (others may appear any time).
    pub fields: &'static [Field],
    /// The unit of a value field not listed in `fields`, when the dataset's
    /// documentation gives one for all of them.
    pub other_unit: Option<&'static str>,
    /// `--fields`'s default; `None`: every numeric field.
    pub default_fields: Option<&'static [&'static str]>,
    /// `--max-key-lateness`'s default, in minutes.
    pub key_lateness_minutes: i64,
    /// What the docs' table says besides the columns.
    pub note: &'static str,
}

/// A field in megawatts.
const fn mw(name: &'static str) -> Field {
    Field { name, unit: "MW" }
}

const CO2: Field = Field {
    name: "CO2Emission",
    unit: "g/kWh",
};

/// Every known dataset.
pub const CATALOGUE: &[Entry] = &[
    Entry {
        name: "PowerSystemRightNow",
        time_column: "Minutes1UTC",
        dk_column: "Minutes1DK",
        key_columns: &[],
        resolution_minutes: 1,
        fields: &[
            CO2,
            mw("ProductionGe100MW"),
            mw("ProductionLt100MW"),
            mw("SolarPower"),
            mw("OffshoreWindPower"),
            mw("OnshoreWindPower"),
            mw("Exchange_Sum"),
            mw("Exchange_DK1_DE"),
            mw("Exchange_DK1_NL"),
            mw("Exchange_DK1_GB"),
            mw("Exchange_DK1_NO"),
            mw("Exchange_DK1_SE"),
            mw("Exchange_DK1_DK2"),
            mw("Exchange_DK2_DE"),
            mw("Exchange_DK2_SE"),
            mw("Exchange_Bornholm_SE"),
            mw("aFRR_ActivatedDK1"),
            mw("aFRR_ActivatedDK2"),
            mw("mFRR_ActivatedDK1"),
            mw("mFRR_ActivatedDK2"),
            mw("ImbalanceDK1"),
            mw("ImbalanceDK2"),
        ],
        other_unit: Some("MW"),
        default_fields: Some(&[
            "CO2Emission",
            "ProductionGe100MW",
            "ProductionLt100MW",
            "SolarPower",
            "OffshoreWindPower",
            "OnshoreWindPower",
            "Exchange_Sum",
        ]),
        key_lateness_minutes: 60,
        note: "",
    },
    Entry {
        name: "ElectricityProdex5MinRealtime",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: &["PriceArea"],
        resolution_minutes: 5,
        fields: &[],
        other_unit: Some("MW"),
        default_fields: None,
        key_lateness_minutes: 60,
        note: "",
    },
    Entry {
        name: "CO2Emis",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: &["PriceArea"],
        resolution_minutes: 5,
        fields: &[CO2],
        other_unit: None,
        default_fields: None,
        key_lateness_minutes: 60,
        note: "",
    },
    Entry {
        name: "CO2EmisProg",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: &["PriceArea"],
        resolution_minutes: 5,
        fields: &[CO2],
        other_unit: None,
        default_fields: None,
        key_lateness_minutes: 60,
        note: "a forecast",
    },
    Entry {
        name: "Forecasts_5Min",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: &["PriceArea", "ForecastType"],
        resolution_minutes: 5,
        fields: &[
            mw("ForecastDayAhead"),
            mw("ForecastIntraday"),
            mw("Forecast5Hour"),
            mw("Forecast1Hour"),
            mw("ForecastCurrent"),
        ],
        other_unit: Some("MW"),
        default_fields: None,
        key_lateness_minutes: 60,
        note: "",
    },
    Entry {
        name: "DayAheadPrices",
        time_column: "TimeUTC",
        dk_column: "TimeDK",
        key_columns: &["PriceArea"],
        resolution_minutes: 15,
        fields: &[
            Field {
                name: "DayAheadPriceEUR",
                unit: "EUR/MWh",
            },
            Field {
                name: "DayAheadPriceDKK",
                unit: "DKK/MWh",
            },
        ],
        other_unit: None,
        default_fields: None,
        key_lateness_minutes: 60,
        note: "rows for tomorrow are ignored until their time",
    },
];

/// The entry of a known dataset, its name matched case-insensitively.
pub fn find(name: &str) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

impl Entry {
    pub fn resolution(&self) -> TimeDelta {
        TimeDelta::minutes(self.resolution_minutes)
    }

    pub fn key_lateness(&self) -> TimeDelta {
        TimeDelta::minutes(self.key_lateness_minutes)
    }

    /// The known value fields' names, in order.
    pub fn field_names(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().map(|f| f.name)
    }

    /// A value field's unit, where the dataset's documentation gives one.
    pub fn unit(&self, field: &str) -> Option<&'static str> {
        (self.fields.iter())
            .find(|f| f.name == field)
            .map(|f| f.unit)
            .or(self.other_unit)
    }
}

/// The docs' table of known datasets (docs/reference.md holds it as is).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| dataset | UTC / Danish time column | key columns | resolution | known value fields (unit) | aggregated by default | key lateness |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for e in CATALOGUE {
        let fields: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{} ({})", f.name, f.unit))
            .collect();
        let fields = match (fields.is_empty(), e.other_unit) {
            (true, Some(unit)) => format!("any (all in {unit})"),
            (true, None) => "any".to_string(),
            (false, _) => fields.join(", "),
        };
        let note = if e.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.note)
        };
        out.push_str(&format!(
            "| {}{note} | {} / {} | {} | {} min | {fields} | {} | {} min |\n",
            e.name,
            e.time_column,
            e.dk_column,
            e.key_columns.join(", "),
            e.resolution_minutes,
            e.default_fields.map_or("all".to_string(), |f| f.join(", ")),
            e.key_lateness_minutes,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_consistent() {
        for (i, e) in CATALOGUE.iter().enumerate() {
            assert!(
                CATALOGUE[..i]
                    .iter()
                    .all(|o| !o.name.eq_ignore_ascii_case(e.name)),
                "{} twice",
                e.name
            );
            assert_eq!(
                60 % e.resolution_minutes,
                0,
                "{}: a divisor of an hour",
                e.name
            );
            assert!(e.key_lateness() >= e.resolution(), "{}", e.name);
            let mut columns = vec![e.time_column, e.dk_column];
            columns.extend(e.key_columns);
            for (j, c) in columns.iter().enumerate() {
                assert!(!columns[..j].contains(c), "{}: {c} twice", e.name);
                assert!(
                    !e.field_names().any(|f| f == *c),
                    "{}: {c} is a column",
                    e.name
                );
            }
            let names: Vec<&str> = e.field_names().collect();
            for d in e.default_fields.unwrap_or_default() {
                assert!(
                    names.contains(d),
                    "{}: default {d} is not a known field",
                    e.name
                );
            }
        }
    }

    #[test]
    fn units_and_lookups() {
        let psrn = find("powersystemrightnow").unwrap();
        assert_eq!(psrn.name, "PowerSystemRightNow");
        assert_eq!(psrn.unit("CO2Emission"), Some("g/kWh"));
        assert_eq!(psrn.unit("SolarPower"), Some("MW"));
        let prices = find("DayAheadPrices").unwrap();
        assert_eq!(prices.unit("DayAheadPriceEUR"), Some("EUR/MWh"));
        assert_eq!(prices.unit("Other"), None);
        assert_eq!(find("Elspotprices"), None);
    }

    /// The docs list exactly the catalogue.
    #[test]
    fn the_docs_table_is_the_catalogue() {
        let docs = include_str!("../docs/reference.md");
        let table = markdown_table();
        assert!(
            docs.contains(&table),
            "docs/reference.md lacks the table:\n{table}"
        );
    }
}
