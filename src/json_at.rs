//! Where a key's value sits in a JSON file, so that an error about a file itfsim reads
//! back (a run result given to `rollup`) can name its line and column as well as its key.
//!
//! serde_json gives a position only when the text itself is broken; a value that parses
//! but makes no sense (an amount outside the pot, a partner listed twice) is found after
//! the fact. The file is walked again with borrowed `RawValue`s, which point into the
//! original text, so a value's byte offset is where its slice starts and no second parser
//! is needed. Keys are the dotted names the errors already use: `total.paid.mean`, and
//! for an array of objects with an `id` (partners), the id: `partners.nhs.net.mean`.
use crate::diagnostic::line_col;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// 1-based (line, column in characters) where the value at `key` starts in `text`, or
/// None when the text is not JSON or has no such key.
pub fn position(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut value: &RawValue = serde_json::from_str(text).ok()?;
    for segment in key.split('.') {
        value = child(value, segment)?;
    }
    Some(position_of(text, value))
}

/// 1-based (line, column) of the `index`th element of the array at `key`.
pub fn element_position(text: &str, key: &str, index: usize) -> Option<(usize, usize)> {
    let mut value: &RawValue = serde_json::from_str(text).ok()?;
    for segment in key.split('.') {
        value = child(value, segment)?;
    }
    let items: Vec<&RawValue> = serde_json::from_str(value.get()).ok()?;
    Some(position_of(text, items.get(index)?))
}

/// The member `segment` of an object, or the element of an array of objects whose `id`
/// is `segment`.
fn child<'a>(value: &'a RawValue, segment: &str) -> Option<&'a RawValue> {
    let text = value.get();
    match text.as_bytes().first()? {
        b'{' => {
            let members: HashMap<String, &'a RawValue> = serde_json::from_str(text).ok()?;
            members.get(segment).copied()
        }
        b'[' => {
            #[derive(Deserialize)]
            struct Id {
                id: String,
            }
            let items: Vec<&'a RawValue> = serde_json::from_str(text).ok()?;
            items
                .into_iter()
                .find(|item| serde_json::from_str::<Id>(item.get()).is_ok_and(|x| x.id == segment))
        }
        _ => None,
    }
}

/// A borrowed value's slice lies inside `text`: its offset is the distance between the
/// two starts.
fn position_of(text: &str, value: &RawValue) -> (usize, usize) {
    let offset = (value.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    line_col(text, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"fund\": {\"pot\": \"10.00\"},\n  \"total\": {\n    \"paid\": {\"mean\": \"1.00\"}\n  },\n  \"partners\": [\n    {\"id\": \"nhs\", \"net\": {\"mean\": \"2.00\"}},\n    {\"id\": \"council\", \"net\": {\"mean\": \"3.00\"}}\n  ]\n}\n";

    #[test]
    fn finds_members_and_array_elements_by_id() {
        assert_eq!(position(TEXT, "fund.pot"), Some((2, 19)));
        assert_eq!(position(TEXT, "total.paid.mean"), Some((4, 22)));
        assert_eq!(position(TEXT, "partners.nhs.net.mean"), Some((7, 35)));
        assert_eq!(position(TEXT, "partners.council.net.mean"), Some((8, 39)));
        assert_eq!(element_position(TEXT, "partners", 1), Some((8, 5)));
    }

    #[test]
    fn what_is_not_there_has_no_position() {
        assert_eq!(position(TEXT, "total.unreleased.mean"), None);
        assert_eq!(position(TEXT, "partners.lea.net.mean"), None);
        assert_eq!(position(TEXT, "fund.pot.deeper"), None);
        assert_eq!(element_position(TEXT, "partners", 2), None);
        assert_eq!(position("{ broken", "fund"), None);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "{\"name\": \"Hénon\", \"pot\": 1}";
        assert_eq!(position(text, "pot"), Some((1, 26)));
    }
}
