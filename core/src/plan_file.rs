//! A plan saved to a file (`--plan-out`, the dashboard's JSON export), to
//! be applied later with `--apply-plan`.

use serde::{Deserialize, Serialize};

use crate::plan::Plan;

/// The version this build writes and reads.
pub const PLAN_FILE_FORMAT: u32 = 1;

/// `{"format": 1, "registry": "https://…", "plan": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFile {
    pub format: u32,
    /// The registry the plan was made for, as the user gave it.
    pub registry: String,
    pub plan: Plan,
}

impl PlanFile {
    pub fn new(registry: &str, plan: Plan) -> PlanFile {
        PlanFile {
            format: PLAN_FILE_FORMAT,
            registry: registry.to_owned(),
            plan,
        }
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan is always representable in JSON")
    }

    pub fn from_json(text: &str) -> Result<PlanFile, String> {
        #[derive(Deserialize)]
        struct Header {
            format: Option<u32>,
        }
        let header: Header = serde_json::from_str(text)
            .map_err(|e| format!("not a cleanreg plan file (JSON): {e}"))?;
        match header.format {
            Some(PLAN_FILE_FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "plan file format {other} is not known to this version (it reads {PLAN_FILE_FORMAT})"
                ));
            }
            None => return Err("not a cleanreg plan file: it has no \"format\" field".into()),
        }
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer)
            .map_err(|e| format!("plan file field {}: {}", e.path(), e.inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::policy::Policy;
    use time::macros::datetime;

    #[test]
    fn a_plan_file_round_trips_and_unknown_formats_are_refused() {
        let plan = crate::plan::plan(
            &Inventory::default(),
            &Policy::keep_newest(3),
            datetime!(2026-01-01 0:00 UTC),
        );
        let file = PlanFile::new("http://127.0.0.1:5000", plan);
        assert_eq!(PlanFile::from_json(&file.to_json_pretty()).unwrap(), file);
        let error = PlanFile::from_json(r#"{"format": 7}"#).unwrap_err();
        assert!(error.contains("format 7"), "{error}");
        let error = PlanFile::from_json(r#"{"entries": []}"#).unwrap_err();
        assert!(error.contains("no \"format\""), "{error}");
        let error = PlanFile::from_json(r#"{"format": 1, "registry": "x", "plan": {"now": 3}}"#)
            .unwrap_err();
        assert!(error.contains("plan.now"), "{error}");
    }
}
