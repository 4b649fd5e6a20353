//! A three-way merge of settings: what one writer changed (from `base` to
//! `edited`) is applied onto what the file holds now (`current`), so the
//! window's save keeps a change the command line made meanwhile, and the
//! window keeps an edit in flight when the file changes under it.
//!
//! It works on the JSON form, field by field: a field the writer did not
//! change keeps its current value; objects merge key by key; lists of plain
//! values (the ticked events) merge as sets, so ticking one event never
//! unticks another; anything else the writer changed is taken whole.

use serde_json::Value;

use super::settings::Settings;

/// `current` with the changes from `base` to `edited` applied, or why not.
pub fn merge_settings(
    base: &Settings,
    edited: &Settings,
    current: &Settings,
) -> Result<Settings, String> {
    let to_value = |s: &Settings| serde_json::to_value(s).map_err(|e| e.to_string());
    let mut merged = to_value(current)?;
    merge_values(&to_value(base)?, &to_value(edited)?, &mut merged);
    serde_json::from_value(merged).map_err(|e| format!("the merged settings do not fit: {e}"))
}

/// Applies the changes from `base` to `edited` onto `current`.
pub fn merge_values(base: &Value, edited: &Value, current: &mut Value) {
    if base == edited {
        return;
    }
    match (base, edited, current) {
        (Value::Object(base), Value::Object(edited), Value::Object(current)) => {
            for (key, new) in edited {
                match (base.get(key), current.get_mut(key)) {
                    (Some(old), Some(now)) => merge_values(old, new, now),
                    _ => {
                        current.insert(key.clone(), new.clone());
                    }
                }
            }
            for key in base.keys().filter(|k| !edited.contains_key(*k)) {
                current.remove(key);
            }
        }
        (Value::Array(base), Value::Array(edited), Value::Array(current))
            if [base, edited, &*current]
                .iter()
                .all(|list| list.iter().all(is_plain)) =>
        {
            current.retain(|v| !base.contains(v) || edited.contains(v));
            for v in edited {
                if !base.contains(v) && !current.contains(v) {
                    current.push(v.clone());
                }
            }
        }
        (_, edited, current) => *current = edited.clone(),
    }
}

fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::EventType;
    use crate::core::settings::{Channel, Plan};
    use serde_json::json;

    fn event(id: &str) -> EventType {
        EventType::from_id(id).unwrap()
    }

    #[test]
    fn only_what_the_writer_changed_lands_on_the_current_settings() {
        let base = Settings::default();
        // The window unticked one event on Discord and turned Discord on…
        let mut edited = base.clone();
        edited
            .events_mut(Channel::Discord)
            .set(event("printer.online"), false);
        edited.channels[Channel::Discord].enabled = true;
        // …while the command line switched the plan and unticked another.
        let mut current = base.clone();
        current.plan = Plan::Commercial;
        current
            .events_mut(Channel::Discord)
            .set(event("job.failed"), false);

        let merged = merge_settings(&base, &edited, &current).unwrap();
        assert_eq!(merged.plan, Plan::Commercial);
        assert!(merged.channels[Channel::Discord].enabled);
        let discord = merged.events(Channel::Discord);
        assert!(!discord.contains(event("printer.online")));
        assert!(!discord.contains(event("job.failed")));
        assert_eq!(
            discord.len(),
            base.channels[Channel::Discord].events.len() - 2
        );
        assert_eq!(
            merged.channels[Channel::Webhook],
            current.channels[Channel::Webhook]
        );
    }

    #[test]
    fn an_unchanged_edit_keeps_the_current_settings_whole() {
        let base = Settings::default();
        let mut current = base.clone();
        current.plan = Plan::Commercial;
        current.channels[Channel::Webhook].signing = true;
        assert_eq!(merge_settings(&base, &base, &current).unwrap(), current);
    }

    #[test]
    fn the_writer_wins_where_both_changed_the_same_field() {
        let base = Settings::default();
        let mut edited = base.clone();
        edited.plan = Plan::Commercial;
        let mut current = base.clone();
        current.plan = Plan::Free;
        current.channels[Channel::Discord].enabled = true;
        let merged = merge_settings(&base, &edited, &current).unwrap();
        assert_eq!(merged.plan, Plan::Commercial);
        assert!(merged.channels[Channel::Discord].enabled);
    }

    #[test]
    fn lists_of_plain_values_merge_as_sets_and_other_values_are_replaced() {
        let base = json!({"a": ["x", "y"], "b": {"c": 1, "d": 2}, "e": [{"k": 1}], "gone": 1});
        let edited = json!({"a": ["y", "z"], "b": {"c": 1, "d": 3}, "e": [{"k": 2}], "new": 1});
        let mut current =
            json!({"a": ["x", "y", "w"], "b": {"c": 5, "d": 2}, "e": [{"k": 9}], "gone": 1});
        merge_values(&base, &edited, &mut current);
        assert_eq!(
            current,
            json!({"a": ["y", "w", "z"], "b": {"c": 5, "d": 3}, "e": [{"k": 2}], "new": 1})
        );
    }
}
